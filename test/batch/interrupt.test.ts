// Ctrl-C during a batch: the run stops issuing identities, finishes the accessories in progress,
// says how to continue and exits 130; the journal then holds no identity without its files, and
// --resume completes the batch.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, tempDir } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'factory-station');
const COUNT = 500;

function journalRecords(out: string): { type: string; index?: number; setupCode?: string }[] {
  const name = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.journal')) : undefined;
  if (!name) return [];
  const text = readFileSync(join(out, name), 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

describe('Ctrl-C during a batch', () => {
  it('stops cleanly with exit 130 and a resume hint; --resume completes it', async () => {
    const dir = tempDir('interrupt');
    const out = join(dir, 'out');
    // Per-accessory PDF labels make the run long enough to interrupt midway.
    const args = ['batch', '--prefix', 'Plug', '--count', String(COUNT), '--cid', '7', '--size', '0x3000', '--outdir', 'out', '--labels', 'single'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 1200 && journalRecords(out).filter((r) => r.type === 'done').length < 40; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    expect(await exited).toBe(130);

    expect(stderr).toMatch(/^Stopping once the accessories in progress are written/);
    const reported = /batch interrupted \(SIGINT\): (\d+) of 500 accessories are complete; .* --resume --outdir out\n$/.exec(stderr);
    expect(reported, stderr).not.toBeNull();
    const records = journalRecords(out);
    const issued = records.filter((r) => r.type === 'identity');
    const done = records.filter((r) => r.type === 'done');
    expect(records.some((r) => r.type === 'complete')).toBe(false);
    expect(issued.length).toBeLessThan(COUNT);
    // A clean stop: every identity issued has its files and its `done` record.
    expect(done.length).toBe(issued.length);
    expect(Number(reported![1])).toBe(done.length);
    const files = listFiles(out);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(files.filter((f) => f.startsWith('bin/'))).toHaveLength(done.length);

    const resumed = spawnSync(process.execPath, [BIN, 'batch', '--resume', '--outdir', 'out'], { cwd: dir, encoding: 'utf8' });
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const after = journalRecords(out);
    expect(after.at(-1)!.type).toBe('complete');
    const identities = after.filter((r) => r.type === 'identity');
    expect(identities).toHaveLength(COUNT);
    expect(new Set(identities.map((r) => r.setupCode)).size).toBe(COUNT);
    expect(listFiles(out).filter((f) => f.startsWith('labels/'))).toHaveLength(COUNT);
  }, 240_000);
});
