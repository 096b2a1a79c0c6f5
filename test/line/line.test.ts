// Acceptance (issue 15): a production line — 4 station processes × 100 units each on virtual chips
// (no pacing), concurrently against one PostgreSQL registry (a throw-away cluster): no setup code
// or setup ID twice, every unit's flash = its registry record, each station within its connection
// limit; then the same with a 300-identity pool shared by the four, once set to stop when the
// pool is empty and once set to fall back to fresh identities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { MAX_CONNECTIONS, migrateRegistry, openRegistry, type UnitRecord } from '../../src-main/registry/index.ts';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { PgCluster } from '../helpers/pg-cluster.ts';
import { boardsOf, expectDeviceMatches, runStation, type BoardLine } from './helpers.ts';

const STATIONS = 4;
const UNITS = 100;
let cluster: PgCluster;
let dir: string;
let profile: string;

beforeAll(async () => {
  useOpenSslModPow();
  // Room for the four stations' pools and the test's own connections, not much more.
  cluster = await PgCluster.start({ maxConnections: STATIONS * MAX_CONNECTIONS + 8 });
  dir = mkdtempSync(join(tmpdir(), 'hkfs-line-'));
  profile = await createDemoProfile(dir);
}, 240_000);
afterAll(async () => {
  await cluster?.destroy();
});

/** Runs the four stations at once; samples how many connections each holds meanwhile. */
async function runLine(db: string, name: string, extra: Record<string, unknown> = {}): Promise<{ boards: BoardLine[]; units: UnitRecord[]; maxConnections: Map<string, number> }> {
  await migrateRegistry(db, { station: 'engineer' });
  const outs = Array.from({ length: STATIONS }, (_, s) => join(dir, `${name}-station-${s}.jsonl`));
  const maxConnections = new Map<string, number>();
  let running = true;
  const sampling = (async () => {
    while (running) {
      const r = await cluster.admin((c) => c.query<{ app: string; n: string }>("SELECT application_name AS app, COUNT(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'factory-station %' GROUP BY 1"));
      for (const row of r.rows) maxConnections.set(row.app, Math.max(maxConnections.get(row.app) ?? 0, Number(row.n)));
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  try {
    await Promise.all(outs.map((out, s) => runStation({
      db, station: `${name}-${s}`, profile, labels: join(dir, `labels-${name}-${s}`), out, units: UNITS, ports: 2, tag: 0x10 + s, ...extra,
    })));
  } finally {
    running = false;
    await sampling;
  }
  const reg = openRegistry(db, { station: 'check' });
  try {
    return { boards: outs.flatMap(boardsOf), units: await reg.listUnits({ limit: 10_000 }), maxConnections };
  } finally {
    await reg.close();
  }
}

function expectUnique(units: UnitRecord[]): void {
  expect(new Set(units.map((u) => u.setupCode)).size).toBe(units.length);
  expect(new Set(units.map((u) => u.setupId)).size).toBe(units.length);
  expect(new Set(units.map((u) => u.mac)).size).toBe(units.length);
}

describe('a production line on one PostgreSQL registry', () => {
  it(`${STATIONS} station processes × ${UNITS} units at once: no code or ID twice, every flash = its record, connections within the limit`, async () => {
    const { boards, units, maxConnections } = await runLine(await cluster.createDatabase('fresh'), 'fresh');
    expect(boards.filter((b) => b.kind !== 'done')).toEqual([]);
    expect(boards).toHaveLength(STATIONS * UNITS);
    expect(units).toHaveLength(STATIONS * UNITS);
    expectUnique(units);
    const byMac = new Map(units.map((u) => [u.mac, u]));
    boards.forEach((b, i) => expectDeviceMatches(b, byMac.get(b.mac), i % 20 === 0));
    for (let s = 0; s < STATIONS; s++) expect(units.filter((u) => u.station === `fresh-${s}`)).toHaveLength(UNITS);
    expect(maxConnections.size).toBe(STATIONS);
    for (const [app, n] of maxConnections) expect(n, app).toBeLessThanOrEqual(MAX_CONNECTIONS);
  }, 600_000);

  describe('a 300-identity pool shared by the four stations', () => {
    let manifest: string;
    let codes: Set<string>;
    const importPool = async (db: string) => {
      const io = memoryIO(dir);
      expect(await main(['pool', 'import', '--profile', profile, '--db', db, manifest], io), io.err).toBe(0);
      expect(io.out).toContain('imported 300 identities');
    };

    beforeAll(async () => {
      const io = memoryIO(dir);
      expect(await main(['batch', '--count', '300', '--prefix', 'Plug', '--cid', '7', '--size', '0x6000', '--outdir', 'pool-batch', '--labels', 'none'], io), io.err).toBe(0);
      manifest = join(dir, 'pool-batch', readdirSync(join(dir, 'pool-batch')).find((f) => f.startsWith('homekit_manifest_'))!);
      codes = new Set((JSON.parse((await import('node:fs')).readFileSync(manifest, 'utf8')) as { units: { setupCode: string }[] }).units.map((u) => u.setupCode));
      expect(codes.size).toBe(300);
    }, 240_000);

    it('set to stop when empty: 300 units get the 300 identities (each once), the other 100 are refused with nothing written', async () => {
      const db = await cluster.createDatabase('poolstop');
      await migrateRegistry(db, { station: 'engineer' });
      await importPool(db);
      const { boards, units } = await runLine(db, 'stop', { usePool: true, whenPoolEmpty: 'stop' });
      expect(boards).toHaveLength(STATIONS * UNITS);
      const done = boards.filter((b) => b.kind === 'done');
      const refused = boards.filter((b) => b.kind !== 'done');
      expect(done).toHaveLength(300);
      expect(refused).toHaveLength(100);
      expect(refused.every((b) => b.code === 'pool-empty' && b.blank)).toBe(true);
      expect(units).toHaveLength(300);
      expectUnique(units);
      expect(new Set(units.map((u) => u.setupCode))).toEqual(codes);
      expect(new Set(units.map((u) => u.poolId)).size).toBe(300);
      const byMac = new Map(units.map((u) => [u.mac, u]));
      done.forEach((b, i) => expectDeviceMatches(b, byMac.get(b.mac), i % 20 === 0));
      // every station took part in emptying the pool
      for (let s = 0; s < STATIONS; s++) expect(units.filter((u) => u.station === `stop-${s}`).length).toBeGreaterThan(0);
    }, 600_000);

    it('set to fall back: the 300 pool identities once each, then fresh identities, never a code or ID twice', async () => {
      const db = await cluster.createDatabase('poolfresh');
      await migrateRegistry(db, { station: 'engineer' });
      await importPool(db);
      const { boards, units } = await runLine(db, 'fallback', { usePool: true, whenPoolEmpty: 'fresh' });
      expect(boards.filter((b) => b.kind !== 'done')).toEqual([]);
      expect(units).toHaveLength(STATIONS * UNITS);
      expectUnique(units);
      const pooled = units.filter((u) => u.poolId !== null);
      expect(pooled).toHaveLength(300);
      expect(new Set(pooled.map((u) => u.setupCode))).toEqual(codes);
      expect(units.filter((u) => u.poolId === null).every((u) => !codes.has(u.setupCode))).toBe(true);
      const byMac = new Map(units.map((u) => [u.mac, u]));
      boards.forEach((b, i) => expectDeviceMatches(b, byMac.get(b.mac), i % 40 === 0));
    }, 600_000);
  });
});
