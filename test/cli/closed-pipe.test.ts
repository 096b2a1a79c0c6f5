// `factory-station … | head`: when the reader of stdout goes away, the command stops printing and
// finishes its work — no stack trace, no cut-short batch.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'factory-station');
const root = mkdtempSync(join(tmpdir(), 'closed-pipe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the bin with its stdout pipe closed by the reader at once. */
function runWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('closed stdout pipe', () => {
  it('help: exit 0, nothing on stderr', async () => {
    expect(await runWithClosedStdout(['--help'], root)).toEqual({ code: 0, stderr: '' });
  });

  it('batch: completes (journal complete, every file written), exit 0, nothing on stderr', async () => {
    const dir = mkdtempSync(join(root, 'batch-'));
    const r = await runWithClosedStdout(['batch', '--prefix', 'Fan', '--count', '30', '--cid', '3', '--size', '0x3000', '--outdir', 'out', '--labels', 'none'], dir);
    expect(r).toEqual({ code: 0, stderr: '' });
    const out = join(dir, 'out');
    const journal = readdirSync(out).find((f) => f.endsWith('.journal'))!;
    expect(JSON.parse(readFileSync(join(out, journal), 'utf8').trimEnd().split('\n').at(-1)!).type).toBe('complete');
    expect(readdirSync(join(out, 'bin'))).toHaveLength(30);
  });
});
