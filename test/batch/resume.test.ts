// Acceptance: a 500-accessory batch run through the real bin (worker threads started by the
// .mjs bootstrap), killed with SIGKILL midway, then resumed: 500 distinct identities, none lost
// or issued twice, journal and master consistent with the files.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';
import { listFiles, readMaster, tempDir } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'factory-station');
const COUNT = 500;

function journalOf(out: string): string | undefined {
  const name = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.journal')) : undefined;
  return name && join(out, name);
}

function records(path: string): { type: string; index?: number; setupCode?: string; setupId?: string; salt?: string; name?: string }[] {
  // A torn last line is possible after SIGKILL: only complete lines count.
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

describe('kill and resume', () => {
  it('SIGKILL midway, --resume completes the batch without losing or repeating an identity', async () => {
    const dir = tempDir('resume');
    const out = join(dir, 'out');
    // Per-accessory PDF labels make each accessory slow enough to kill the run midway reliably.
    const args = ['batch', '--prefix', 'Plug', '--count', String(COUNT), '--cid', '7', '--size', '0x3000', '--outdir', 'out', '--labels', 'single', '--jobs', '2'];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    // Wait until some (not all) accessories are done, then kill without warning.
    let doneBefore = 0;
    for (let i = 0; i < 1200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const j = journalOf(out);
      if (j) doneBefore = records(j).filter((r) => r.type === 'done').length;
      if (doneBefore >= 40) break;
    }
    child.kill('SIGKILL');
    await exited;
    expect(stderr).toBe('');
    expect(doneBefore).toBeGreaterThanOrEqual(40);
    const before = records(journalOf(out)!);
    const issuedBefore = before.filter((r) => r.type === 'identity');
    expect(before.some((r) => r.type === 'complete')).toBe(false);
    expect(issuedBefore.length).toBeLessThan(COUNT);

    // Starting a new run over the unfinished one is refused.
    const again = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/unfinished batch .* --resume --outdir out/);

    const resumed = spawnSync(process.execPath, [BIN, 'batch', '--resume', '--outdir', 'out'], { cwd: dir, encoding: 'utf8' });
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/^Resuming homekit_batch_/);
    // The worker thread (tsx bootstrap under the real bin) took part.
    expect(resumed.stdout).toMatch(/1 worker thread\(s\) built [1-9]\d*/);

    const after = records(journalOf(out)!);
    expect(after.at(-1)!.type).toBe('complete');
    const identities = after.filter((r) => r.type === 'identity');
    expect(identities).toHaveLength(COUNT);
    // Every identity journaled before the kill kept its place and its secret values.
    const byIndex = new Map(identities.map((r) => [r.index, r]));
    for (const r of issuedBefore) expect(byIndex.get(r.index)).toEqual(r);
    expect(new Set(identities.map((r) => r.index)).size).toBe(COUNT);
    expect(new Set(identities.map((r) => r.setupCode)).size).toBe(COUNT);
    expect(new Set(identities.map((r) => r.setupId)).size).toBe(COUNT);

    const files = listFiles(out);
    expect(files.some((f) => f.includes('.tmp'))).toBe(false);
    for (const dirName of ['bin', 'csv', 'homekit_setup_info', 'labels']) expect(files.filter((f) => f.startsWith(`${dirName}/`))).toHaveLength(COUNT);
    const masterName = files.find((f) => /^homekit_values_.*\.csv$/.test(f))!;
    const master = readMaster(join(out, masterName));
    expect(master.rows).toHaveLength(COUNT);
    master.rows.forEach(([id, code, salt], i) => {
      const rec = byIndex.get(i)!;
      expect(id).toBe(rec.setupId);
      expect(code!.replace(/-/g, '')).toBe(rec.setupCode);
      expect(salt).toBe(rec.salt);
      const image = readNvsImage(new Uint8Array(readFileSync(join(out, 'bin', `Plug-${code}.bin`))));
      expect(image.problems).toEqual([]);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_salt')!).toString('hex')).toBe(rec.salt);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_id')!).toString()).toBe(rec.setupId);
    });
  }, 240_000);
});
