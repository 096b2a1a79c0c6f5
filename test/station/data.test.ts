// Station data layer: profiles, engineer PIN, database guarantees, history/export commands.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { validateProfile, ProfileError } from '../../shared/station/profile.ts';
import { demoProfile, hashPin, verifyPin, loadProfile, HOMEKIT_PARTITION_CSV } from '../../src-main/station/profile-file.ts';
import { openRegistry, migrationSql, SCHEMA_VERSION } from '../../src-main/registry/index.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { run as history } from '../../src-main/cli/commands/history.ts';
import { run as exportCmd } from '../../src-main/cli/commands/export.ts';
import { replayingRandom, secrets } from '../helpers/identities.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'hkfs-data-'));

function fresh(n: number) {
  const code = String(10000000 + n * 7919).slice(0, 8);
  const id = n.toString(36).toUpperCase().padStart(4, '0');
  return { setupCode: code, setupId: id, salt: new Uint8Array(16).fill(n & 255), verifier: new Uint8Array(384).fill(1), payload: `X-HM://TEST${id}` };
}

describe('product profile', () => {
  const base = () => JSON.parse(JSON.stringify(demoProfile())) as Record<string, any>;

  it('accepts the demo profile and the esp-homekit-sdk partition table is the fixture one', async () => {
    expect(validateProfile(base()).productName).toBe('Demo Smart Plug');
    expect(HOMEKIT_PARTITION_CSV.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(
      readFileSync('test/fixtures/station/partitions_hap.csv', 'utf8').split('\n').filter((l) => l && !l.startsWith('#')),
    );
  });

  it.each([
    ['category', (p: any) => (p.category = 0), /category: must be a whole number from 1 to 255/],
    ['nvs.size', (p: any) => (p.nvs.size = 0x4100), /nvs\.size: must be a multiple of 4096/],
    ['flags', (p: any) => (p.flags = { wac: true }), /flags: an accessory needs at least one transport/],
    ['label overflow', (p: any) => ((p.label = { size: '25x25', showProductName: true }), (p.productName = 'An Extremely Long Product Name For A Tiny Label')), /label: .*productName/],
    ['unknown field', (p: any) => (p.colour = 'red'), /colour: unknown field/],
    ['productData', (p: any) => (p.productData = 'xyz'), /productData: must be 16 hex digits/],
  ])('rejects a bad %s with the field path', (_name, mutate, message) => {
    const p = base();
    mutate(p);
    expect(() => validateProfile(p, 'p.json')).toThrow(ProfileError);
    expect(() => validateProfile(p, 'p.json')).toThrow(message);
  });

  it('names the JSON line of a syntax error and a missing firmware file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.json'), '{\n  "schema": 1,\n  "id": x\n}');
    await expect(loadProfile(join(dir, 'bad.json'))).rejects.toThrow(/line 3/);
    writeFileSync(join(dir, 'p.json'), JSON.stringify(demoProfile()));
    await expect(loadProfile(join(dir, 'p.json'))).rejects.toThrow(/firmware\.partitionTable: file not found/);
  });

  it('engineer PIN: salted scrypt hash (async), verified only with the right PIN', async () => {
    const h = await hashPin('4711');
    expect(h).not.toContain('4711');
    expect(await hashPin('4711')).not.toBe(h);
    expect(await verifyPin('4711', h)).toBe(true);
    expect(await verifyPin('4712', h)).toBe(false);
    await expect(hashPin('12')).rejects.toThrow(/4 to 12 digits/);
    // a hash not made by hashPin (or asking for a huge N) matches nothing, and costs nothing
    expect(await verifyPin('4711', 'x')).toBe(false);
    expect(await verifyPin('4711', h.replace('16384', '1099511627776'))).toBe(false);
  });
});

describe('production database', () => {
  it('is created with mode 0600, migrated, and re-opens at the same schema', async () => {
    const path = join(tmp(), 'db', 'station.db');
    const db = openRegistry(path);
    expect(await db.schemaVersion()).toBe(SCHEMA_VERSION);
    await db.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = openRegistry(path);
    expect(await again.schemaVersion()).toBe(SCHEMA_VERSION);
    again.close();
  });

  it('a version-1 database gains the pool index, and pool lookups use it', async () => {
    const path = join(tmp(), 'v1.db');
    const raw = new Database(path);
    raw.exec(migrationSql('sqlite', 0));
    raw.pragma('user_version = 1');
    raw.close();
    openRegistry(path).close();
    const check = new Database(path, { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const plan = (sql: string) => (check.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('p') as { detail: string }[]).map((r) => r.detail).join(' | ');
      expect(plan('SELECT COUNT(*) AS n FROM pool WHERE product = ? AND unit_id IS NULL')).toMatch(/USING COVERING INDEX pool_free/);
      const next = plan('SELECT * FROM pool WHERE product = ? AND unit_id IS NULL ORDER BY id LIMIT 1');
      expect(next).toMatch(/USING INDEX pool_free/);
      expect(next).not.toMatch(/TEMP B-TREE/); // already in id order: no sort
    } finally {
      await check.close();
    }
  });

  it('a version-2 database keeps its units and gains slots, label profiles and the attempt log', async () => {
    const path = join(tmp(), 'v2.db');
    const raw = new Database(path);
    raw.exec(migrationSql('sqlite', 0));
    raw.exec(migrationSql('sqlite', 1));
    raw.pragma('user_version = 2');
    raw.prepare("INSERT INTO products VALUES ('p', 'P', 7, '2026-01-01')").run();
    raw.prepare(`INSERT INTO units (product, mac, chip, setup_code, setup_id, salt, verifier, verifier_sha256, payload, station, operator, status, attempts, created_at, updated_at)
                 VALUES ('p', '24:0a:c4:00:00:01', 'esp32', '11122333', 'AB12', x'00', x'00', 'h', 'X-HM://X', 's', 'o', 'done', 1, '2026-01-01', '2026-01-01')`).run();
    raw.close();
    const db = openRegistry(path);
    expect(await db.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(await db.getUnit(1)).toMatchObject({ setupId: 'AB12', status: 'done', slot: null, labelProfile: null, labelVerifiedAt: null });
    await db.attempts.record({ station: 's', product: 'p', kind: 'provision', outcome: 'ok', unitId: 1, mac: '24:0A:C4:00:00:01', slot: 2 });
    expect(await db.attempts.list({ mac: '240AC4' })).toMatchObject([{ unitId: 1, slot: 2, setupId: 'AB12', mac: '24:0a:c4:00:00:01' }]);
    await db.close();
  });

  it('finds units by MAC typed in any form: colons, dashes, none, any case, the label form', async () => {
    const db = openRegistry(join(tmp(), 'mac.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    await db.reserveIdentity({ product: 'p', mac: '24:0A:C4:5B:12:EF', chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '', fresh: (drawn) => ({ ...fresh(3), ...drawn }) });
    for (const q of ['24:0a:c4:5b:12:ef', '240AC45B12EF', '24-0A-C4-5B-12-EF', '5b12ef', '5B:12', 'c4 5b', '240a.c45b.12ef']) {
      expect((await db.listUnits({ mac: q })).map((u) => u.mac), q).toEqual(['24:0a:c4:5b:12:ef']);
    }
    expect(await db.listUnits({ mac: '5b:13' })).toEqual([]);
    await db.close();
  });

  it('reserves one identity per MAC (idempotent) and never reuses a code', async () => {
    const db = openRegistry(join(tmp(), 's.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    const { random, rewind } = replayingRandom();
    const reserve = (mac: string) => db.reserveIdentity({ product: 'p', mac, chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets, random });
    const a = await reserve('24:0a:c4:00:00:01');
    const again = await reserve('24-0A-C4-00-00-01');
    expect(again.existing).toBe(true);
    expect(again.unit.setupCode).toBe(a.unit.setupCode);
    // a random source that repeats itself is drawn from again until the code and ID are unused
    rewind();
    const b = await reserve('24:0a:c4:00:00:02');
    expect(b.unit.setupCode).not.toBe(a.unit.setupCode);
    expect(b.unit.setupId).not.toBe(a.unit.setupId);
    expect(await db.isCodeUsed('p', a.unit.setupCode)).toBe(true);
    await db.close();
  });

  it('hands out pool identities in import order', async () => {
    const db = openRegistry(join(tmp(), 's.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    const pool = [fresh(1), fresh(2), fresh(3)];
    expect(await db.importPool('p', pool)).toEqual({ added: 3, skipped: [] });
    // an identity whose code the product already issued is skipped; the rest of the import is added
    expect(await db.importPool('p', [fresh(1), fresh(4)])).toEqual({ added: 1, skipped: [{ index: 0, conflict: 'setupCode' }] });
    expect(await db.poolRemaining('p')).toBe(4);
    const got: { setupCode: string }[] = [];
    for (const m of ['01', '02']) got.push((await db.reserveIdentity({ product: 'p', mac: `24:0a:c4:00:00:${m}`, chip: 'esp32', station: 's', operator: 'o', usePool: true, poolPayload: (c, i) => `X-HM://${i}`, fresh: () => { throw new Error('not used'); } })).unit);
    expect(got.map((u) => u.setupCode)).toEqual([pool[0]!.setupCode, pool[1]!.setupCode]);
    expect(await db.poolRemaining('p')).toBe(2);
    await db.close();
  });

  it('two connections reserving at once never share an identity', async () => {
    const path = join(tmp(), 'shared.db');
    const db = openRegistry(path);
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    await db.close();
    // Two threads, each with its own connection to the file (as two station processes would be).
    const source = `
      import { workerData, parentPort } from 'node:worker_threads';
      const { register } = await import(workerData.tsxApi);
      register();
      const { openRegistry } = await import(workerData.registryModule);
      const db = openRegistry(workerData.path, { station: workerData.tag });
      for (let i = 0; i < 150; i++) {
        const mac = '24:0a:c4:' + workerData.tag + ':' + (i >> 8).toString(16).padStart(2, '0') + ':' + (i & 255).toString(16).padStart(2, '0');
        await db.reserveIdentity({ product: 'p', mac, chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '',
          fresh: (d) => ({ ...d, salt: new Uint8Array(16), verifier: new Uint8Array(384), payload: 'x' }) });
      }
      await db.close();
      parentPort.postMessage('done');`;
    const registryModule = pathToFileURL(join(process.cwd(), 'src-main/registry/index.ts')).href;
    const start = (tag: string) => new Promise((resolve, reject) => {
      const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), { workerData: { path, tag, registryModule, tsxApi: import.meta.resolve('tsx/esm/api') } });
      w.on('message', resolve);
      w.on('error', reject);
    });
    await Promise.all([start('aa'), start('bb')]);
    const check = openRegistry(path);
    const units = await check.listUnits({ limit: 10_000 });
    expect(units).toHaveLength(300);
    expect(new Set(units.map((u) => u.setupCode)).size).toBe(300);
    expect(new Set(units.map((u) => u.setupId)).size).toBe(300);
    await check.close();
  }, 180_000);

});

describe('history and export commands', () => {
  it('history never shows a setup code; export writes the manifest with mode 0600', async () => {
    const dir = tmp();
    const db = openRegistry(join(dir, 'station.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    const u = (await db.reserveIdentity({ product: 'p', mac: '24:0a:c4:12:34:56', chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets })).unit;
    await db.setStatus(u.id, 'done');
    await db.close();
    const io = memoryIO(dir);
    expect(await history(['--db', 'station.db'], io)).toBe(0);
    expect(io.out).toContain('24:0a:c4:12:34:56');
    expect(io.out).toContain(u.setupId);
    expect(io.out).not.toContain(u.setupCode);
    const json = memoryIO(dir);
    expect(await history(['--db', 'station.db', '--mac', '12:34:56', '--json'], json)).toBe(0);
    expect(JSON.parse(json.out)).toHaveLength(1);
    expect(json.out).not.toContain(u.setupCode);

    const ex = memoryIO(dir);
    expect(await exportCmd(['--db', 'station.db', 'out/manifest.csv'], ex)).toBe(0);
    const csv = readFileSync(join(dir, 'out/manifest.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe('product,mac,chip,setup_id,setup_code,payload,status,created_at,updated_at,label_print_count,station,serial');
    expect(csv[1]).toContain(`,${u.setupCode},`);
    expect(statSync(join(dir, 'out/manifest.csv')).mode & 0o777).toBe(0o600);

    const missing = memoryIO(dir);
    expect(await history(['--db', 'nope.db'], missing).catch(() => 1)).not.toBe(0);
  });

  it('history --attempts lists every attempt; --failed only the failed ones; MAC in any form', async () => {
    const dir = tmp();
    const db = openRegistry(join(dir, 'station.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    const u = (await db.reserveIdentity({ product: 'p', mac: '24:0a:c4:12:34:56', chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '', fresh: (drawn) => ({ ...fresh(6), ...drawn }) })).unit;
    await db.attempts.record({ station: 's', product: 'p', port: '/dev/ttyUSB0', slot: 3, kind: 'provision', outcome: 'failed', stage: 'connect', code: 'no-download-mode', message: 'No device in download mode' });
    await db.attempts.record({ station: 's', product: 'p', port: '/dev/ttyUSB0', slot: 3, unitId: u.id, mac: u.mac, kind: 'retry', outcome: 'ok' });
    await db.close();
    const all = memoryIO(dir);
    expect(await history(['--db', 'station.db', '--attempts'], all)).toBe(0);
    expect(all.out).toMatch(/retry\s+ok\s+3\s+1\s+24:0a:c4:12:34:56/);
    expect(all.out).toContain('2 attempt(s)');
    const failed = memoryIO(dir);
    expect(await history(['--db', 'station.db', '--attempts', '--failed', '--json'], failed)).toBe(0);
    expect(JSON.parse(failed.out)).toMatchObject([{ kind: 'provision', outcome: 'failed', stage: 'connect', code: 'no-download-mode', slot: 3 }]);
    const byMac = memoryIO(dir);
    expect(await history(['--db', 'station.db', '--mac', '240AC4123456', '--json'], byMac)).toBe(0);
    expect(JSON.parse(byMac.out)).toMatchObject([{ id: u.id, slot: null }]);
    expect(await history(['--db', 'station.db', '--failed'], memoryIO(dir)).catch((e: Error) => e.message)).toMatch(/--failed goes with --attempts/);
  });
});
