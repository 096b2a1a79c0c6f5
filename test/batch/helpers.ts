// Shared helpers for the batch tests: temp folders, running the command in-process, reading the
// values master written by a run.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { memoryIO } from '../../src-main/cli/io.ts';
import { main } from '../../src-main/cli/factory-station.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'batch');

const created: string[] = [];
// Batches write thousands of files: remove them when the test file is done.
afterAll(() => {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `batch-${tag}-`));
  created.push(dir);
  return dir;
}

export async function runBatch(cwd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO(cwd);
  const code = await main(['batch', ...args], io);
  return { code, out: io.out, err: io.err };
}

/** Every file under `dir`, relative, sorted. */
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

/** Rows of a CRLF values master (no quoted fields in these tests). */
export function readMaster(path: string): { header: string[]; rows: string[][] } {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\r\n');
  if (lines.pop() !== '') throw new Error('values master must end with CRLF');
  const [header, ...rows] = lines.map((l) => l.split(','));
  return { header: header!, rows };
}
