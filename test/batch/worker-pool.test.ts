// The batch's worker threads: the cached esbuild bundle they run, the SRP table they receive from
// the coordinator, and that a unit built on a worker (bundle or tsx) is byte-identical to one built
// on the coordinator's own thread.
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { batchWorkerScript, repositoryRoot } from '../../src-main/batch/worker-script.ts';
import { CACHE_SUBDIR } from '../../src-main/bundle/cache.mjs';
import { UnitWorkerPool } from '../../src-main/batch/pool.ts';
import { createUnitWriter } from '../../src-main/batch/unit-writer.ts';
import type { UnitResult, UnitTask, WorkerInit } from '../../src-main/batch/protocol.ts';
import { tempDir } from './helpers.ts';

const UNIT_DIRS = ['csv', 'bin', 'homekit_setup_info'];
const ROOT = repositoryRoot();

// Bundles import npm packages from node_modules, so test caches live under the real cache folder.
const caches: string[] = [];
function testCache(): string {
  const dir = join(ROOT, CACHE_SUBDIR, `test-${process.pid}-${caches.length}-${Date.now()}`);
  caches.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of caches) rmSync(d, { recursive: true, force: true });
});

function tasks(count: number): UnitTask[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `W${String(i).padStart(3, '0')}`;
    const code = `${String(100 + i).padStart(3, '0')}-${String(10 + (i % 80)).padStart(2, '0')}-${String(300 + i).padStart(3, '0')}`;
    const salt = new Uint8Array(16).map((_, k) => (i * 31 + k * 7) & 255);
    if (i % 5 === 0) salt[0] = 0; // leading zero salts must survive the trip to a worker
    return { index: i, name: `Fan-${id}`, setupCode: code, setupId: id, salt };
  });
}

function outdir(tag: string): string {
  const dir = tempDir(tag);
  for (const d of UNIT_DIRS) mkdirSync(join(dir, d));
  return dir;
}

function init(dir: string): WorkerInit {
  return { type: 'init', spec: { category: 7, payloadFlags: { ip: true }, size: 0x3000, version: 2 }, outdir: dir, cwd: dir };
}

/** Every unit file of a folder, by relative path. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const d of UNIT_DIRS) for (const name of readdirSync(join(dir, d))) out.set(`${d}/${name}`, readFileSync(join(dir, d, name)));
  return out;
}

async function buildOnCoordinator(units: UnitTask[]): Promise<{ dir: string; results: UnitResult[] }> {
  const dir = outdir('inline');
  const writer = await createUnitWriter(init(dir));
  const results: UnitResult[] = [];
  for (const t of units) results.push(await writer.write(t));
  return { dir, results };
}

async function buildOnWorkers(units: UnitTask[], script: URL): Promise<{ dir: string; results: UnitResult[]; pool: UnitWorkerPool }> {
  const dir = outdir('workers');
  const pool = new UnitWorkerPool(init(dir), { lanes: 2, inline: false, script });
  try {
    const groups = [];
    for (let i = 0; i < units.length; i += 4) groups.push(pool.run(units.slice(i, i + 4)));
    return { dir, results: (await Promise.all(groups)).flat(), pool };
  } finally {
    await pool.close();
  }
}

describe('batch worker script', () => {
  it('builds the bundle once into the cache, reuses it, and rebuilds when the record no longer matches', async () => {
    const cache = testCache();
    const first = await batchWorkerScript(cache);
    expect(first.kind).toBe('bundle');
    const path = fileURLToPath(first.url);
    expect(readFileSync(path, 'utf8')).toContain('batch worker must run in a worker thread');
    const record = JSON.parse(readFileSync(join(cache, 'batch-worker.json'), 'utf8')) as { key: string; inputs: string[]; dir: string };
    expect(path).toBe(join(cache, record.dir, 'batch-worker.mjs'));
    expect(record.inputs).toContain('src-main/batch/worker.ts');
    expect(record.inputs).toContain('shared/homekit/srp.ts');
    expect(record.inputs.every((p) => !p.includes('node_modules'))).toBe(true);

    const built = statSync(path).mtimeMs;
    const again = await batchWorkerScript(cache);
    expect(again.url.href).toBe(first.url.href);
    expect(statSync(path).mtimeMs).toBe(built);

    // A record whose key does not match the sources (as after an edit) makes it build again.
    writeFileSync(join(cache, 'batch-worker.json'), JSON.stringify({ ...record, key: 'stale' }));
    const rebuilt = await batchWorkerScript(cache);
    expect(rebuilt.kind).toBe('bundle');
    expect(JSON.parse(readFileSync(join(cache, 'batch-worker.json'), 'utf8')).key).toBe(record.key);
  });

  it('falls back to the tsx bootstrap when the cache cannot be written', async () => {
    const blocker = join(tempDir('blocked'), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const script = await batchWorkerScript(join(blocker, 'cache'));
    expect(script.kind).toBe('tsx');
    expect(script.url.pathname.endsWith('/worker-bootstrap.mjs')).toBe(true);
    expect(script.reason).toMatch(/ENOTDIR|not a directory/i);
  });
});

describe('accessories built on worker threads', () => {
  const units = tasks(24);
  let reference: Promise<{ dir: string; results: UnitResult[] }> | undefined;
  const onCoordinator = () => (reference ??= buildOnCoordinator(units));

  it.each([
    [
      'the cached bundle',
      async () => {
        const script = await batchWorkerScript(testCache());
        expect(script.kind).toBe('bundle');
        return script.url;
      },
    ],
    ['the tsx bootstrap', async () => new URL('../../src-main/batch/worker-bootstrap.mjs', import.meta.url)],
  ])('%s: same verifiers, payloads and bytes as on the coordinator, all built on the workers', async (_name, script) => {
    const ref = await onCoordinator();
    const got = await buildOnWorkers(units, await script());
    expect(got.pool.workerCount).toBe(2);
    expect(got.pool.counts.inline).toBe(0);
    expect(got.pool.counts.workers).toBe(units.length);
    expect(got.results.map((r) => r.index)).toEqual(units.map((u) => u.index));
    expect(got.results).toEqual(ref.results);
    const want = files(ref.dir);
    const have = files(got.dir);
    expect([...have.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, bytes] of want) expect(have.get(name)!.equals(bytes), name).toBe(true);
    expect(want.size).toBe(units.length * 3);
  });
});

describe('a worker that cannot start', () => {
  it('fails every group with a WorkerPoolError naming the cause (no unhandled rejection, no crash)', async () => {
    const dir = outdir('broken');
    const pool = new UnitWorkerPool(init(dir), { lanes: 1, inline: false, script: pathToFileURL(join(dir, 'no-such-worker.mjs')) });
    try {
      const groups = [pool.run(tasks(2)), pool.run(tasks(2))];
      for (const g of groups) await expect(g).rejects.toThrow(/batch worker crashed: Cannot find module .*no-such-worker\.mjs/);
      await expect(pool.run(tasks(1))).rejects.toThrow(/batch worker crashed/);
    } finally {
      await pool.close();
    }
  });
});
