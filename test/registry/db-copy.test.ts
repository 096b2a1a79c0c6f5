// `factory-station db migrate` and `db copy` against a real PostgreSQL server (a throw-away cluster):
// a station's SQLite registry with 10 000 units, a pool, attempts and audit rows copied into the
// line's registry and back is the same row for row; a second run copies nothing; a second station
// merges in, with clashes refused; no message shows the URL's password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { openRegistry, SCHEMA_VERSION, type Registry } from '../../src-main/registry/index.ts';
import { PgCluster, STATION_PASSWORD } from '../helpers/pg-cluster.ts';

let cluster: PgCluster;
let dir: string;
const UNITS = 10_000;

async function cli(...argv: string[]) {
  const io = memoryIO(dir, { STATION_DB_WAIT: '1' });
  const code = await main(argv, io);
  expect(`${io.out}${io.err}`).not.toContain(STATION_PASSWORD);
  return { code, out: io.out, err: io.err };
}

const mac = (n: number, tag: number) => `24:0a:${tag.toString(16).padStart(2, '0')}:${(n >> 16).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
const secrets = (d: { setupCode: string; setupId: string }) => ({ ...d, salt: randomBytes(16), verifier: randomBytes(384), payload: `X-HM://T${d.setupId}` });

/** A station's registry as a station leaves it: units in every status, a pool partly used, attempts, audit rows. */
async function stationRegistry(path: string, station: string, units: number, tag: number): Promise<void> {
  const db = openRegistry(path, { station });
  try {
    await db.upsertProduct({ id: 'plug', productName: 'Plug', category: 7 });
    // 300 distinct identities (unique per station too: codes 2TT0xxxx, IDs <tag letter> + 3 base-36 digits)
    const pool = Array.from({ length: 300 }, (_, i) => ({ setupCode: String(20_000_000 + tag * 10_000 + i), setupId: `${String.fromCharCode(65 + (tag % 26))}${i.toString(36).padStart(3, '0')}`.toUpperCase(), salt: randomBytes(16), verifier: randomBytes(384) }));
    await db.importPool('plug', pool);
    await db.reserveSerialBlock('plug', { format: `B${tag}-{counter}`, digits: 6, start: 1, nvs: { namespace: 'app', key: 'serial' } }, { runId: `run-${tag}`, count: 25, station, date: new Date() });
    for (let i = 0; i < units; i++) {
      // every third unit gets a serial number (the product took a scheme later on)
      const serial = i % 3 === 0 ? { serial: { scheme: { format: `S${tag}-{counter}`, digits: 6, start: 1, nvs: { namespace: 'app', key: 'serial' } } } } : {};
      const { unit } = await db.reserveIdentity({ product: 'plug', mac: mac(i, tag), chip: 'esp32', station, operator: 'op', usePool: i % 50 === 0, poolPayload: (_c, id) => `X-HM://P${id}`, fresh: secrets, ...serial });
      if (i % 10 !== 3) await db.setStatus(unit.id, i % 10 === 7 ? 'failed' : 'done', i % 10 === 7 ? { failure: 'Unplugged' } : { slot: i % 8 });
      if (i % 4 === 0) await db.attempts.record({ station, product: 'plug', kind: 'provision', outcome: i % 10 === 7 ? 'failed' : 'ok', unitId: unit.id, mac: unit.mac, port: '/dev/ttyUSB0', slot: i % 8, durationMs: 900 });
    }
  } finally {
    await db.close();
  }
}

/** Every row of every table of a SQLite registry, in key order. */
function rowsOf(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const order: Record<string, string> = {
      products: 'id', units: 'id', pool: 'id', used_codes: 'product, setup_code', used_setup_ids: 'product, setup_id',
      serial_counters: 'product', used_serials: 'product, serial', serial_blocks: 'run_id', attempts: 'id', audit: 'id',
    };
    return Object.fromEntries(Object.entries(order).map(([t, o]) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY ${o}`).all()]));
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  cluster = await PgCluster.start();
  // tmpfs where there is one: the 10 000-unit fixture is about the copy, not about fsync
  dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hkfs-dbcopy-'));
}, 240_000);
afterAll(async () => {
  await cluster?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('db migrate', () => {
  it('creates the schema on an empty server database, is a no-op the second time, and is refused clearly otherwise', async () => {
    const url = await cluster.createDatabase('mig');
    const shown = `postgres://127.0.0.1:${cluster.port}/mig`;
    const before = await cli('history', '--db', url);
    expect(before.code).toBe(1);
    expect(before.err).toBe(`history: ${shown}: this database holds no station registry yet: run factory-station db migrate --db <URL> first\n`);
    const first = await cli('db', 'migrate', '--db', url);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain(`${shown}: schema 0 → ${SCHEMA_VERSION}`);
    expect((await cli('db', 'migrate', '--db', url)).out).toBe(`${shown}: schema ${SCHEMA_VERSION} (current, nothing to do)\n`);
    const rows = await cluster.admin((c) => c.query('SELECT version, applied_by FROM schema_migrations ORDER BY version'), 'mig');
    expect(rows.rows.map((r) => r.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    // a wrong password, an unknown database, a closed port: one line each, no password, no stack
    const wrong = await cli('history', '--db', url.replace(STATION_PASSWORD, 'nope'));
    expect(wrong).toMatchObject({ code: 1, err: `history: ${shown}: the server refused the user name or password (check the URL, PGPASSWORD or ~/.pgpass)\n` });
    const missing = await cli('db', 'migrate', '--db', cluster.url('nosuch'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nosuch: no such database on the server: create it \(createdb\)/);
    expect((await cli('history', '--db', 'postgres://127.0.0.1:1/x')).err).toMatch(/^history: The production database did not answer .*connection refused/);
    expect((await cli('history', '--db', 'mysql://u:secretpw@h/x')).err).toBe('history: --db: mysql://h/x: only SQLite files and postgres:// URLs are supported\n');
    // the offline batch checks its identities against the line's registry (and says so plainly when it cannot)
    expect((await cli('batch', '--count', '3', '--prefix', 'Fan', '--cid', '3', '--size', '0x6000', '--db', url, '--outdir', 'batch-line', '--labels', 'none')).code).toBe(0);
    const offline = await cli('batch', '--count', '3', '--prefix', 'Fan', '--cid', '3', '--size', '0x6000', '--db', url.replace(STATION_PASSWORD, 'nope'), '--outdir', 'batch-x', '--labels', 'none');
    expect(offline.code).not.toBe(0);
    expect(offline.err).toContain('the server refused the user name or password');
  }, 240_000);
});

describe('db copy', () => {
  let line: string;
  it(`a station registry of ${UNITS} units + pool copied into PostgreSQL and back is the same row for row; a second run copies nothing`, async () => {
    const a = join(dir, 'a.db');
    await stationRegistry(a, 'bench-a', UNITS, 0xaa);
    line = await cluster.createDatabase('line');
    expect((await cli('db', 'migrate', '--db', line)).code).toBe(0);

    const there = await cli('db', 'copy', '--from', 'a.db', '--to', line);
    expect(there.code, there.err).toBe(0);
    expect(there.out).toMatch(new RegExp(`units\\s+${UNITS} copied\\s+0 already there`));
    const back = await cli('db', 'copy', '--from', line, '--to', 'b.db', '--init-db');
    expect(back.code, back.err).toBe(0);
    const [ra, rb] = [rowsOf(a), rowsOf(join(dir, 'b.db'))];
    expect(ra.units).toHaveLength(UNITS);
    expect(ra.pool).toHaveLength(300);
    expect(ra.attempts!.length).toBe(UNITS / 4);
    expect(ra.used_serials).toHaveLength(25 + Math.ceil(UNITS / 3));
    expect(ra.serial_blocks).toHaveLength(1);
    for (const table of Object.keys(ra)) expect(rb[table], table).toEqual(ra[table]);

    const again = await cli('db', 'copy', '--from', 'a.db', '--to', line);
    expect(again.code, again.err).toBe(0);
    for (const line of again.out.trim().split('\n').slice(1)) expect(line).toMatch(/\s0 copied/);
    const counts = await cluster.admin((c) => c.query('SELECT (SELECT COUNT(*) FROM units) AS u, (SELECT COUNT(*) FROM attempts) AS a, (SELECT COUNT(*) FROM audit) AS au, (SELECT COUNT(*) FROM pool) AS p'), 'line');
    expect(counts.rows[0]).toEqual({ u: String(UNITS), a: String(UNITS / 4), au: String(ra.audit!.length), p: '300' });
    // the line's view of what was copied: one station, its runs in the last 24 hours
    const view = await cli('history', '--db', line, '--stations', '--json');
    expect(JSON.parse(view.out).stations).toEqual([{ station: 'bench-a', units: UNITS / 4, failures: 0, unitsPerHour: expect.any(Number), failuresPerHour: 0 }]);
    expect((await cli('history', '--db', line, '--station', 'nobody', '--json')).out).toBe('[]\n');
  }, 600_000);

  it('a second station merges into the line; a station that is now online keeps issuing new numbers; clashes are refused, nothing half-copied', async () => {
    const b = join(dir, 'second.db');
    await stationRegistry(b, 'bench-b', 200, 0xbb);
    const merged = await cli('db', 'copy', '--from', 'second.db', '--to', line);
    expect(merged.code, merged.err).toBe(0);
    expect(merged.out).toMatch(/units\s+200 copied/);
    const reg: Registry = openRegistry(line, { station: 'check' });
    try {
      expect((await reg.listUnits({ station: 'bench-b', limit: 1000 })).length).toBe(200);
      expect((await reg.listUnits({ limit: 100_000 })).length).toBe(UNITS + 200);
      const ids = (await reg.listUnits({ limit: 100_000 })).map((u) => u.id);
      expect(new Set(ids).size).toBe(ids.length);
      // the line goes on issuing after the copies: new unit numbers follow the copied ones
      await reg.upsertProduct({ id: 'plug', productName: 'Plug', category: 7 });
      const next = await reg.reserveIdentity({ product: 'plug', mac: '24:0a:cc:00:00:01', chip: 'esp32', station: 'check', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets });
      expect(next.unit.id).toBeGreaterThan(Math.max(...ids));
      // a third registry holding a unit whose MAC the line gave another identity: refused, nothing written
      const c = join(dir, 'third.db');
      const third = openRegistry(c, { station: 'bench-c' });
      await third.upsertProduct({ id: 'plug', productName: 'Plug', category: 7 });
      await third.reserveIdentity({ product: 'plug', mac: '24:0a:cc:00:00:02', chip: 'esp32', station: 'bench-c', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets });
      const clash = await third.reserveIdentity({ product: 'plug', mac: mac(5, 0xaa), chip: 'esp32', station: 'bench-c', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets });
      await third.close();
      const refused = await cli('db', 'copy', '--from', 'third.db', '--to', line);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`MAC ${mac(5, 0xaa)}, setup ID ${clash.unit.setupId}, station bench-c): this MAC holds another identity in the target`);
      expect(refused.err).not.toContain(clash.unit.setupCode);
      expect(await reg.findByMac('plug', '24:0a:cc:00:00:02')).toBeUndefined(); // nothing of it was written
    } finally {
      await reg.close();
    }
    expect((await cli('db', 'copy', '--from', 'second.db', '--to', 'second.db')).code).toBe(2);
  }, 240_000);
});
