// Runs factory-nvs-gen in-process in a fresh temp folder holding only a case's input files.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main, type FactoryNvsGenDeps } from '../../../src-main/cli/factory-nvs-gen.ts';
import { memoryIO } from '../../../src-main/cli/io.ts';
import { readNvsImage, findBlob } from '../../../shared/nvs/reader.ts';

export interface ToolRun {
  code: number;
  /** stdout / stderr with the temp folder replaced by `<CWD>`, as in the vectors. */
  stdout: string;
  stderr: string;
  dir: string;
  /** Files in the folder after the run, relative, sorted, inputs included. */
  files: string[];
  read(path: string): Buffer;
  cleanup(): void;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'factory-nvs-gen-'));
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * `inputs`: file name → contents, or a folder to copy the listed names from.
 * `<CWD>` in argv stands for the run folder (absolute paths in the vectors).
 */
export async function runTool(
  argv: string[],
  inputs: Record<string, string | Uint8Array> | { from: string; names: string[] } = {},
  deps: FactoryNvsGenDeps = {},
): Promise<ToolRun> {
  const dir = tempDir();
  if ('from' in inputs && Array.isArray(inputs.names)) {
    for (const name of inputs.names) cpSync(join(inputs.from as string, name), join(dir, name));
  } else {
    for (const [name, data] of Object.entries(inputs as Record<string, string | Uint8Array>)) writeFileSync(join(dir, name), data);
  }
  const io = memoryIO(dir);
  const code = await main(argv.map((a) => a.replaceAll('<CWD>', dir)), io, deps);
  const mask = (s: string) => s.replaceAll(dir, '<CWD>');
  return {
    code,
    stdout: mask(io.out),
    stderr: mask(io.err),
    dir,
    files: listFiles(dir),
    read: (p) => readFileSync(join(dir, p)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The `hap_setup` salt, verifier and setup ID of a (plain) NVS image, via the NVS reader. */
export function readSetupInfo(image: Uint8Array): { salt: Uint8Array; verifier: Uint8Array; setupId: string } {
  const result = readNvsImage(image);
  const salt = findBlob(result, 'hap_setup', 'setup_salt');
  const verifier = findBlob(result, 'hap_setup', 'setup_verifier');
  const id = findBlob(result, 'hap_setup', 'setup_id');
  if (!salt || !verifier || !id) throw new Error('hap_setup/setup_salt, setup_verifier or setup_id missing from the image');
  return { salt, verifier, setupId: Buffer.from(id).toString('latin1') };
}
