// The registry test suite, run against both engines: the embedded SQLite file and a real
// PostgreSQL server (a throw-away cluster this file starts and stops). One suite, one set of
// expectations: whatever a station relies on must hold on either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateRegistry, openRegistry, PoolEmptyError, SCHEMA_VERSION, unitSummary, type Registry, type ReserveInput } from '../../src-main/registry/index.ts';
import { PgCluster } from '../helpers/pg-cluster.ts';
import type { SerialScheme } from '../../shared/station/serial.ts';
import { replayingRandom, secrets } from '../helpers/identities.ts';

function poolEntry(n: number) {
  const code = String(10000000 + n * 7919).slice(0, 8);
  const id = n.toString(36).toUpperCase().padStart(4, '0');
  return { setupCode: code, setupId: id, salt: new Uint8Array(16).fill(n & 255), verifier: new Uint8Array(384).fill(n & 255) };
}

const mac = (n: number, tag = 0) => `24:0a:c4:${tag.toString(16).padStart(2, '0')}:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;

function reserveInput(db: Registry, m: string, extra: Partial<ReserveInput> = {}): ReserveInput {
  return { product: 'p', mac: m, chip: 'esp32', station: db.station, operator: 'o', usePool: false, poolPayload: (c, i) => `X-HM://POOL${i}`, fresh: secrets, ...extra };
}

interface EngineSetup {
  name: 'sqlite' | 'postgres';
  /** A new, empty, migrated registry location. */
  fresh(): Promise<string>;
}

let cluster: PgCluster | undefined;
let dbNo = 0;
const ENGINES: EngineSetup[] = [
  { name: 'sqlite', fresh: async () => join(mkdtempSync(join(tmpdir(), 'hkfs-reg-')), 'station.db') },
  {
    name: 'postgres',
    fresh: async () => {
      const url = await cluster!.createDatabase(`reg${++dbNo}`);
      await migrateRegistry(url, { station: 'test' });
      return url;
    },
  },
];

beforeAll(async () => {
  cluster = await PgCluster.start();
}, 240_000);
afterAll(async () => {
  await cluster?.destroy();
});

describe.each(ENGINES)('registry on $name', (engine) => {
  const opened: Registry[] = [];
  async function open(station = 'bench-1', where?: string): Promise<{ db: Registry; where: string }> {
    const at = where ?? (await engine.fresh());
    const db = openRegistry(at, { station, retryForMs: 10_000 });
    opened.push(db);
    await db.ready();
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    return { db, where: at };
  }
  afterAll(async () => {
    for (const db of opened) await db.close();
  });

  it('is at the current schema; a file is created with mode 0600', async () => {
    const { db, where } = await open();
    expect(await db.schemaVersion()).toBe(SCHEMA_VERSION);
    if (engine.name === 'sqlite') expect(statSync(where).mode & 0o777).toBe(0o600);
    expect(db.kind).toBe(engine.name);
  });

  it('reserves one identity per MAC (idempotent) and never reuses a code or an ID', async () => {
    const { db } = await open();
    const { random, rewind } = replayingRandom();
    const a = await db.reserveIdentity(reserveInput(db, mac(1), { random }));
    const again = await db.reserveIdentity(reserveInput(db, '24-0A-C4-00-00-01', { random }));
    expect(again.existing).toBe(true);
    expect(again.unit.setupCode).toBe(a.unit.setupCode);
    rewind(); // the same random sequence again: drawn again until the code and the ID are unused
    const b = await db.reserveIdentity(reserveInput(db, mac(2), { random }));
    expect(b.unit.setupCode).not.toBe(a.unit.setupCode);
    expect(b.unit.setupId).not.toBe(a.unit.setupId);
    expect(await db.isCodeUsed('p', a.unit.setupCode)).toBe(true);
    expect(await db.isSetupIdUsed('p', b.unit.setupId)).toBe(true);
    expect(await db.countSetupIds('p')).toBe(2);
    expect(a.unit).toMatchObject({ status: 'reserved', station: 'bench-1', mac: mac(1), salt: new Uint8Array(16).fill(3) });
  });

  it('finds units by MAC typed in any form', async () => {
    const { db } = await open();
    await db.reserveIdentity(reserveInput(db, '24:0A:C4:5B:12:EF'));
    for (const q of ['24:0a:c4:5b:12:ef', '240AC45B12EF', '24-0A-C4-5B-12-EF', '5b12ef', '5B:12', 'c4 5b']) {
      expect((await db.listUnits({ mac: q })).map((u) => u.mac), q).toEqual(['24:0a:c4:5b:12:ef']);
    }
    expect(await db.listUnits({ mac: '5b:13' })).toEqual([]);
  });

  it('hands out pool identities in import order, skips issued ones, and stops or falls back when empty', async () => {
    const { db } = await open();
    const pool = [poolEntry(1), poolEntry(2), poolEntry(3)];
    expect(await db.importPool('p', pool)).toEqual({ added: 3, skipped: [] });
    expect(await db.importPool('p', [poolEntry(1), poolEntry(4)])).toEqual({ added: 1, skipped: [{ index: 0, conflict: 'setupCode' }] });
    expect(await db.poolRemaining('p')).toBe(4);
    const got: string[] = [];
    for (let i = 1; i <= 4; i++) got.push((await db.reserveIdentity(reserveInput(db, mac(i), { usePool: true }))).unit.setupCode);
    expect(got).toEqual([...pool, poolEntry(4)].map((e) => e.setupCode));
    await expect(db.reserveIdentity(reserveInput(db, mac(5), { usePool: true }))).rejects.toBeInstanceOf(PoolEmptyError);
    expect(await db.findByMac('p', mac(5))).toBeUndefined(); // nothing reserved
    const fallback = await db.reserveIdentity(reserveInput(db, mac(5), { usePool: true, whenPoolEmpty: 'fresh' }));
    expect(fallback.unit.poolId).toBeNull();
    expect(new Set([...got, fallback.unit.setupCode]).size).toBe(5);
    const audit = await db.auditRows();
    expect(audit.filter((r) => r.event === 'reserved').map((r) => JSON.parse(r.detail!).source)).toEqual(['pool', 'pool', 'pool', 'pool', 'random (pool empty)']);
    expect(audit.every((r) => r.station === 'bench-1')).toBe(true);
    for (const e of [...pool, poolEntry(4)]) expect(JSON.stringify(audit)).not.toContain(e.setupCode);
  });

  it('walks a unit through its statuses, labels and scan-back; reprint data survive', async () => {
    const { db } = await open();
    const { unit } = await db.reserveIdentity(reserveInput(db, mac(7)));
    const labelProfile = { productName: 'P', label: { size: '25x25' as const } };
    expect(await db.setStatus(unit.id, 'flashing', { incrementAttempts: true, chip: 'esp32s3', slot: 3, labelProfile })).toMatchObject({ status: 'flashing', attempts: 1, chip: 'esp32s3', slot: 3, labelProfile });
    expect(await db.setStatus(unit.id, 'failed', { failure: 'Unplugged' })).toMatchObject({ status: 'failed', failure: 'Unplugged', slot: 3 });
    expect(await db.setStatus(unit.id, 'verified', { imageSha256: 'ab' })).toMatchObject({ status: 'verified', failure: null, imageSha256: 'ab' });
    await db.setStatus(unit.id, 'label-pending');
    expect(await db.markLabelPrinted(unit.id, { awaitScan: true })).toMatchObject({ status: 'label-printed', labelPrintCount: 1 });
    expect(await db.markLabelVerified(unit.id)).toMatchObject({ status: 'done' });
    expect((await db.findByPayload(unit.payload))?.id).toBe(unit.id);
    expect(await db.incompleteUnits('p')).toEqual([]);
    expect((await db.getUnit(unit.id))!.labelVerifiedAt).not.toBeNull();
  });

  it('two stations reserving at once never share an identity; a unit is found by MAC whichever station made it', async () => {
    const { db: a, where } = await open('bench-a');
    const b = openRegistry(where, { station: 'bench-b' });
    opened.push(b);
    const lane = (db: Registry, tag: number) => Promise.all(Array.from({ length: 60 }, (_, i) => db.reserveIdentity(reserveInput(db, mac(i, tag)))));
    const [ua, ub] = await Promise.all([lane(a, 0xaa), lane(b, 0xbb)]);
    const units = [...ua, ...ub].map((r) => r.unit);
    expect(new Set(units.map((u) => u.setupCode)).size).toBe(120);
    expect(new Set(units.map((u) => u.setupId)).size).toBe(120);
    expect(await a.countSetupIds('p')).toBe(120);
    const mine = await b.findByMac('p', mac(3, 0xaa));
    expect(mine).toMatchObject({ station: 'bench-a', setupCode: ua[3]!.unit.setupCode });
    const same = await b.reserveIdentity(reserveInput(b, mac(3, 0xaa)));
    expect(same).toMatchObject({ existing: true, unit: { id: ua[3]!.unit.id } });
    expect((await a.listUnits({ station: 'bench-b', limit: 1000 })).length).toBe(60);
    expect(await a.stations()).toEqual(['bench-a', 'bench-b']);
  });

  it('a pool shared by two stations hands every identity out exactly once', async () => {
    const { db: a, where } = await open('bench-a');
    const b = openRegistry(where, { station: 'bench-b' });
    opened.push(b);
    await a.importPool('p', Array.from({ length: 40 }, (_, i) => poolEntry(100 + i)));
    const lane = (db: Registry, tag: number) => Promise.all(Array.from({ length: 25 }, (_, i) =>
      db.reserveIdentity(reserveInput(db, mac(i, tag), { usePool: true })).then((r) => r.unit.poolId, (err: unknown) => (err instanceof PoolEmptyError ? 'empty' : Promise.reject(err)))));
    const got = (await Promise.all([lane(a, 1), lane(b, 2)])).flat();
    const ids = got.filter((x): x is number => typeof x === 'number');
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(got.filter((x) => x === 'empty')).toHaveLength(10);
    expect(await a.poolRemaining('p')).toBe(0);
  });

  it('attempts: history by station and MAC, shift counters, and the line view per station and hour', async () => {
    const { db } = await open();
    const { unit } = await db.reserveIdentity(reserveInput(db, mac(9)));
    const at = (st: string, kind: 'provision' | 'retry', outcome: 'ok' | 'failed', unitId?: number) =>
      db.attempts.record({ station: st, product: 'p', kind, outcome, unitId: unitId ?? null, mac: unitId ? mac(9) : null, port: '/dev/ttyUSB0', slot: 1 });
    await at('bench-1', 'provision', 'failed');
    await at('bench-1', 'retry', 'ok', unit.id);
    await at('bench-2', 'provision', 'failed');
    await at('bench-2', 'provision', 'failed');
    expect((await db.attempts.list({ station: 'bench-2' })).map((a) => a.station)).toEqual(['bench-2', 'bench-2']);
    expect(await db.attempts.list({ mac: '240AC4000009' })).toMatchObject([{ unitId: unit.id, setupId: unit.setupId, kind: 'retry' }]);
    const since = new Date(Date.now() - 60_000).toISOString();
    expect(await db.attempts.shiftCounters('bench-1', since)).toMatchObject({ units: 1, failures: 1 });
    const to = new Date(Date.now() + 1000).toISOString();
    const line = await db.attempts.lineCounts({ from: new Date(Date.now() - 3_600_000).toISOString(), to, product: 'p' });
    expect(line.stations).toMatchObject([{ station: 'bench-1', units: 1, failures: 1, unitsPerHour: 1, failuresPerHour: 1 }, { station: 'bench-2', units: 0, failures: 2, failuresPerHour: 2 }]);
    expect(line.hours.map((h) => [h.station, h.units, h.failures])).toEqual(expect.arrayContaining([['bench-1', 1, 1], ['bench-2', 0, 2]]));
    expect(line.hours.every((h) => /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(h.hour))).toBe(true);
    const one = await db.attempts.lineCounts({ from: since, to, station: 'bench-2' });
    expect(one.stations.map((s) => s.station)).toEqual(['bench-2']);
  });

  it('exports the manifest of the line or one station (codes in the export only), and lists issued values page by page', async () => {
    const { db, where } = await open('bench-1');
    const other = openRegistry(where, { station: 'bench-2' });
    opened.push(other);
    const u1 = (await db.reserveIdentity(reserveInput(db, mac(1)))).unit;
    const u2 = (await other.reserveIdentity(reserveInput(other, mac(2)))).unit;
    const all = (await db.exportManifestCsv()).trim().split('\r\n');
    expect(all[0]).toBe('product,mac,chip,setup_id,setup_code,payload,status,created_at,updated_at,label_print_count,station,serial');
    expect(all.slice(1).map((l) => l.split(',').at(-2))).toEqual(['bench-1', 'bench-2']);
    const one = await db.exportManifestCsv({ station: 'bench-2' });
    expect(one).toContain(u2.setupCode);
    expect(one).not.toContain(u1.setupCode);
    const pages: string[][] = [];
    for await (const page of db.issuedValues('setupCode', 1)) pages.push(page);
    expect(pages.flat().sort()).toEqual([u1.setupCode, u2.setupCode].sort());
    expect(pages).toHaveLength(2);
    expect(JSON.stringify(unitSummary(u1))).not.toContain(u1.setupCode);
  });
  it('serial numbers: two stations and a batch on one counter — each number once, no gap, in the NVS order of issue', async () => {
    const { db: a, where } = await open('bench-a');
    const b = openRegistry(where, { station: 'bench-b' });
    opened.push(b);
    const scheme: SerialScheme = { format: 'SN-{counter}', digits: 5, start: 1, nvs: { namespace: 'app', key: 'serial' } };
    const lane = (db: Registry, tag: number) => Promise.all(Array.from({ length: 30 }, (_, i) => db.reserveIdentity(reserveInput(db, mac(i, tag), { serial: { scheme } }))));
    const [block, ua, ub] = await Promise.all([
      a.reserveSerialBlock('p', scheme, { runId: 'batch-1', count: 40, station: 'batchhost', date: new Date() }),
      lane(a, 0xa1), lane(b, 0xb1),
    ]);
    const issued = [...block.serials, ...[...ua, ...ub].map((r) => r.unit.serial!)];
    expect(new Set(issued).size).toBe(100);
    expect(issued.map((sn) => Number(sn.slice(3))).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // the block is consecutive; asked again by the same run it comes back unchanged
    expect(block.serials.map((sn) => Number(sn.slice(3)))).toEqual(Array.from({ length: 40 }, (_, i) => block.first + i));
    expect((await b.reserveSerialBlock('p', scheme, { runId: 'batch-1', count: 40, station: 'other', date: new Date() })).serials).toEqual(block.serials);
    // a re-plugged unit keeps its number; the next unit continues the counter
    expect((await b.reserveIdentity(reserveInput(b, mac(0, 0xa1), { serial: { scheme } }))).unit.serial).toBe(ua[0]!.unit.serial);
    expect((await b.reserveIdentity(reserveInput(b, mac(99, 0xb1), { serial: { scheme } }))).unit.serial).toBe('SN-00101');
    expect(await a.listUnits({ serial: 'SN-00101' })).toMatchObject([{ station: 'bench-b' }]);
    expect(await a.isSerialUsed('p', block.serials[0]!)).toBe(true);
  });
});
