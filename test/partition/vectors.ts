// Loads the partition-table golden cases: test/fixtures/partition (copied from
// shared/vectors/partition) and test/fixtures/partition/extra (more cases from the real tool).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/partition/', import.meta.url));
export const EXTRA = join(FIXTURES, 'extra');

export interface VectorRun {
  id: string;
  command: string;
  exit_code: number;
  ok: boolean;
  outputs?: { file: string; bytes: number; sha256: string; text?: string }[];
  error?: { message: string };
}

export interface VectorCase {
  name: string;
  runs: VectorRun[];
}

export function fixture(name: string, dir = FIXTURES): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, name)));
}

export function loadVectorCases(): VectorCase[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as VectorCase);
}

/** A recorded run as the words after the program name, plus where its output went. */
export interface ReplayRun {
  id: string;
  run: VectorRun;
  args: string[];
  input: string;
  output: string;
}

export function vectorRuns(): ReplayRun[] {
  return loadVectorCases().flatMap((c) =>
    c.runs.map((run) => {
      const [program, ...args] = run.command.split(' ');
      if (program !== 'gen_esp32part.py') throw new Error(`unexpected command ${run.command}`);
      return { id: `${c.name}/${run.id}`, run, args, input: args[0]!, output: args[1]! };
    }),
  );
}

export interface ExtraCase {
  name: string;
  description: string;
  argv: string[];
  env: Record<string, string>;
  exit_code: number;
  stderr: string;
  output?: string;
  stdout_file?: string;
}

export function extraCases(): ExtraCase[] {
  return (JSON.parse(readFileSync(join(EXTRA, 'cases.json'), 'utf8')) as { cases: ExtraCase[] }).cases;
}

const STATUS_LINES = new Set(['Parsing CSV input...', 'Parsing binary partition input...', 'Verifying table...']);

/** stderr without the tool's status lines (what the vectors record as the error message). */
export function withoutStatus(stderr: string): string {
  return stderr.split('\n').filter((l) => !STATUS_LINES.has(l)).join('\n');
}

/** Option values of a recorded command (the vectors use only these). */
export function optionsOf(args: string[]): { md5: boolean; offset?: number; flashSize?: number } {
  const at = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const flash = at('--flash-size');
  const offset = at('--offset');
  return {
    md5: !args.includes('--disable-md5sum'),
    offset: offset === undefined ? undefined : Number(offset),
    flashSize: flash === undefined ? undefined : Number.parseInt(flash, 10) * 1024 * 1024,
  };
}
