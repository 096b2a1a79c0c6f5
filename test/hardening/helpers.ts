// Helpers for the issue-13 hardening tests: a product folder made from the demo profile with
// changes, the CLIs run in-process, a process id that is certainly gone.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { memoryIO, runCommand } from '../../src-main/cli/io.ts';
import { main as factoryStation } from '../../src-main/cli/factory-station.ts';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';

const created: string[] = [];
afterAll(() => {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hkfs-${tag}-`));
  created.push(dir);
  return dir;
}

/** The demo product in a fresh folder, with `changes` merged into its JSON and `files` written next to it. */
export async function productDir(tag: string, changes: Record<string, unknown> = {}, files: Record<string, string | Uint8Array> = {}): Promise<{ dir: string; profile: string }> {
  const dir = tempDir(tag);
  const profile = await createDemoProfile(dir);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  const json = JSON.parse(readFileSync(profile, 'utf8')) as Record<string, unknown>;
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete json[k];
    else json[k] = v && typeof v === 'object' && !Array.isArray(v) && json[k] && typeof json[k] === 'object' ? { ...(json[k] as object), ...(v as object) } : v;
  }
  writeFileSync(profile, `${JSON.stringify(json, null, 2)}\n`);
  return { dir, profile };
}

/** `factory-station …` in-process: exit code and what it printed. */
export async function station(cwd: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO(cwd);
  const code = await factoryStation(argv, io);
  return { code, out: io.out, err: io.err };
}

/** `factory-nvs-gen …` in-process. */
export async function factoryNvsGen(cwd: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../src-main/cli/factory-nvs-gen.ts');
  const io = memoryIO(cwd);
  const code = await runCommand(io, () => main(argv, io));
  return { code, out: io.out, err: io.err };
}

/** A process id no process has any more (a child that already exited). */
export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

export const SETUP_CODE_TEXT = /\b\d{3}-\d{2}-\d{3}\b/;
