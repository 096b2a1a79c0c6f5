// Acceptance (issue 13): two INDEPENDENT 6 000-unit batch manifests imported into one station leave
// no setup code or setup ID twice in the pool, and 20 000 provisions across pool and fresh
// identities issue no code and no ID twice.
//
// How this stays honest and fast (each test well under 30 s on two cores):
//   * the manifests come from the batch's own issuing code — two separate IdentityAllocator runs
//     (CSPRNG, no --db, exactly what two `batch` runs on two machines do) — written by the batch's
//     manifest writer (writeBatchManifest, the real file format) and read by the station's manifest
//     reader and pool-import rule (readPoolManifest + addManifestToPool, what `pool import` and the
//     app run). Left out: the NVS images, accessory files and SRP verifiers (stand-in bytes of the
//     right size), which take ~10 s per batch and play no part in uniqueness; the verifier check
//     of an import is covered end to end in test/station/pool.test.ts and test/app/pool.test.ts;
//   * the provisions are reservations straight through db.reserveIdentity — the station's issuing
//     code: its MAC lookup, pool hand-out, policy draw and the used_codes / used_setup_ids keys —
//     without the serial path, with stand-in SRP secrets for fresh identities (drawn code and ID
//     are the database's); the database lives on tmpfs when there is one (fsync per reservation
//     costs ~3 ms on this VM's disk, 0.3 ms on tmpfs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IdentityAllocator } from '../../shared/batch/identities.ts';
import { readPoolManifest, type PoolManifest } from '../../shared/station/manifest.ts';
import { writeBatchManifest } from '../../src-main/batch/manifest.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { addManifestToPool } from '../../src-main/station/pool-import.ts';
import type { JournalRunRecord } from '../../shared/batch/journal.ts';

const UNITS = 6_000;
const PROVISIONS = 20_000;
const PRODUCT = 'scale-plug';
const hex = (n: number) => randomBytes(n).toString('hex');

let root: string;
let db: Registry;
const manifests: PoolManifest[] = [];

/** One batch's manifest: the batch's allocator and manifest writer, verifiers stand-ins. */
async function batchManifest(name: string): Promise<PoolManifest> {
  const allocator = new IdentityAllocator(); // no --db: independent of the other batch
  const units = Array.from({ length: UNITS }, (_, i) => allocator.next(i));
  const run = { runId: name, createdAt: new Date().toISOString(), settings: { category: 7 } } as unknown as JournalRunRecord;
  const path = join(root, `${name}.json`);
  await writeBatchManifest(path, run, units.map((u) => ({ name: `P-${u.setupId}`, setupCode: u.setupCode, setupId: u.setupId, salt: Buffer.from(u.salt).toString('hex'), verifier: hex(384) })));
  return readPoolManifest(readFileSync(path, 'utf8'), path, { category: 7 });
}

beforeAll(async () => {
  root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hkfs-scale-'));
  db = openRegistry(join(root, 'station.db'), { station: 'scale' });
  await db.upsertProduct({ id: PRODUCT, productName: 'Scale Plug', category: 7 });
  manifests.push(await batchManifest('batch-a'), await batchManifest('batch-b'));
}, 240_000);

afterAll(async () => {
  await db.close();
  rmSync(root, { recursive: true, force: true });
});

describe('scale: two independent batches, one pool, 20 000 provisions', () => {
  it('two independent 6 000-unit manifests imported into one station: no setup code or setup ID twice in the pool', async () => {
    const [a, b] = manifests as [PoolManifest, PoolManifest];
    expect(a.identities).toHaveLength(UNITS);
    expect(b.identities).toHaveLength(UNITS);
    // What the two batches share (computed here, independently of the station): with 36^4 IDs,
    // two batches of 6 000 share ~21 setup IDs — the 17 duplicates of the issue.
    const codesA = new Set(a.identities.map((i) => i.setupCode));
    const idsA = new Set(a.identities.map((i) => i.setupId));
    const clashing = b.identities.flatMap((i, index) => (codesA.has(i.setupCode) || idsA.has(i.setupId) ? [index] : []));
    expect(clashing.length).toBeGreaterThan(0);

    expect(await addManifestToPool(db, PRODUCT, a, 'batch-a.json')).toEqual({ added: UNITS, skipped: [] });
    const second = await addManifestToPool(db, PRODUCT, b, 'batch-b.json');
    expect(second.added).toBe(UNITS - clashing.length);
    expect(second.skipped).toEqual(clashing.map((i) => expect.stringMatching(new RegExp(`^units\\[${i}\\] \\(setup ID ${b.identities[i]!.setupId}\\)`))));

    const raw = new Database(join(root, 'station.db'), { readonly: true });
    try {
      const pool = raw.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT setup_code) AS codes, COUNT(DISTINCT setup_id) AS ids FROM pool WHERE product = ?').get(PRODUCT) as { n: number; codes: number; ids: number };
      expect(pool).toEqual({ n: 2 * UNITS - clashing.length, codes: 2 * UNITS - clashing.length, ids: 2 * UNITS - clashing.length });
    } finally {
      raw.close();
    }
  });

  it('20 000 provisions across pool and fresh identities (interleaved): no setup code and no setup ID twice', async () => {
    const inPool = await db.poolRemaining(PRODUCT);
    expect(inPool).toBeGreaterThan(2 * UNITS - 100);
    const secrets = (d: { setupCode: string; setupId: string }) => ({ ...d, salt: randomBytes(16), verifier: randomBytes(384), payload: `X-HM://${d.setupId}` });
    let fromPool = 0;
    for (let i = 0; i < PROVISIONS; i++) {
      // Four of five units take a pool identity while there is one; fresh draws run meanwhile.
      const usePool = i % 5 !== 4 && fromPool < inPool;
      const mac = `24:0a:${(i >> 16).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
      const { unit, existing } = await db.reserveIdentity({ product: PRODUCT, mac, chip: 'esp32', station: 'scale', operator: 'test', usePool, poolPayload: (_c, id) => `X-HM://${id}`, fresh: secrets });
      expect(existing).toBe(false);
      if (usePool) fromPool++;
      expect(unit.poolId !== null).toBe(usePool);
    }
    expect(await db.poolRemaining(PRODUCT)).toBe(0);

    const units = await db.listUnits({ product: PRODUCT, limit: PROVISIONS + 1 });
    expect(units).toHaveLength(PROVISIONS);
    expect(new Set(units.map((u) => u.mac)).size).toBe(PROVISIONS);
    expect(new Set(units.map((u) => u.setupCode)).size).toBe(PROVISIONS);
    expect(new Set(units.map((u) => u.setupId)).size).toBe(PROVISIONS);
    // the pool handed out exactly the imported identities; fresh ones never took a code or an ID
    // of an imported batch entry, even while those were still waiting in the pool
    const pooled = units.filter((u) => u.poolId !== null);
    const fresh = units.filter((u) => u.poolId === null);
    expect(pooled).toHaveLength(inPool);
    expect(fresh).toHaveLength(PROVISIONS - inPool);
    const pooledCodes = new Set(pooled.map((u) => u.setupCode));
    const pooledIds = new Set(pooled.map((u) => u.setupId));
    expect(fresh.filter((u) => pooledCodes.has(u.setupCode) || pooledIds.has(u.setupId))).toEqual([]);
    const batchCodes = new Set(manifests.flatMap((m) => m.identities.map((i) => i.setupCode)));
    expect(pooled.every((u) => batchCodes.has(u.setupCode))).toBe(true);
    expect(await db.countSetupIds(PRODUCT)).toBe(PROVISIONS);
  }, 240_000);
});
