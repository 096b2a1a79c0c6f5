// The one issuing policy (shared/station/identity-policy.ts) as the database, the pool and the
// batch apply it — and what the schema-3 migration does with setup IDs repeated before it.
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawIdentity, IdentityExhaustedError, IssuedSet, issuedConflict } from '../../shared/station/identity-policy.ts';
import { IdentityAllocator } from '../../shared/batch/identities.ts';
import { openRegistry, migrationSql, SCHEMA_VERSION } from '../../src-main/registry/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'hkfs-policy-'));

/** Random bytes where every setup ID drawn is one of `ids` in turn (the setup codes stay random). */
function idsFrom(ids: string[]) {
  let k = 0;
  const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return (n: number) => {
    if (n !== 8) return crypto.getRandomValues(new Uint8Array(n)); // setup codes (4 bytes), salts
    const id = ids[k++ % ids.length]!;
    return Uint8Array.from([...id, ...id].map((c) => ALPHA.indexOf(c)));
  };
}

const secrets = (d: { setupCode: string; setupId: string }) => ({ ...d, salt: new Uint8Array(16), verifier: new Uint8Array(384), payload: `X-HM://${d.setupId}` });

describe('identity issuing policy', () => {
  it('draws only values not issued; gives up instead of repeating one', async () => {
    const issued = new IssuedSet();
    issued.add({ setupCode: '11122333', setupId: 'AAAA' });
    const d = drawIdentity(issued, { random: idsFrom(['AAAA', 'BBBB']) });
    expect(d.setupId).toBe('BBBB');
    issued.add(d);
    expect(() => drawIdentity(issued, { random: idsFrom(['AAAA', 'BBBB']), maxDraws: 50 })).toThrow(IdentityExhaustedError);
    expect(issuedConflict({ setupCode: '11122333', setupId: 'ZZZZ' }, issued)).toBe('setupCode');
    expect(issuedConflict({ setupCode: '55566777', setupId: 'BBBB' }, issued)).toBe('setupId');
    expect(issuedConflict({ setupCode: '55566777', setupId: 'ZZZZ' }, issued)).toBeUndefined();
  });

  it('the database never issues a setup ID twice for a product (no fallback after many collisions)', async () => {
    const db = openRegistry(join(tmp(), 's.db'));
    await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    await db.upsertProduct({ id: 'q', productName: 'Q', category: 7 });
    const random = idsFrom(['K05T', 'K05U']);
    const reserve = (product: string, mac: string) => db.reserveIdentity({ product, mac, chip: 'esp32', station: 's', operator: 'o', usePool: false, poolPayload: () => '', fresh: secrets, random });
    expect((await reserve('p', '24:0a:c4:00:00:01')).unit.setupId).toBe('K05T');
    expect((await reserve('p', '24:0a:c4:00:00:02')).unit.setupId).toBe('K05U');
    // both IDs issued: the old rule accepted a repeat after 200 tries; the policy stops
    await expect(reserve('p', '24:0a:c4:00:00:03')).rejects.toThrow(/could not find an unused setup ID/);
    expect(await db.findByMac('p', '24:0a:c4:00:00:03')).toBeUndefined();
    // per product: another product may use the same ID
    expect((await reserve('q', '24:0a:c4:00:00:03')).unit.setupId).toMatch(/K05[TU]/);
    // a pool entry whose ID was issued is skipped
    const taken = await db.importPool('p', [{ setupCode: '13572468', setupId: 'K05T', salt: new Uint8Array(16), verifier: new Uint8Array(384) }]);
    expect(taken).toEqual({ added: 0, skipped: [{ index: 0, conflict: 'setupId' }] });
    expect(await db.countSetupIds('p')).toBe(2);
    await db.close();
  });

  it('the batch allocator follows the same policy (unique in the batch and against --db)', async () => {
    const allocator = new IdentityAllocator({ random: idsFrom(['AAAA', 'AAAA', 'BBBB', 'CCCC']), isTaken: (kind, v) => kind === 'setupId' && v === 'CCCC', maxAttempts: 20 });
    expect(allocator.next(0).setupId).toBe('AAAA');
    expect(allocator.next(1).setupId).toBe('BBBB');
    expect(() => allocator.next(2)).toThrow(IdentityExhaustedError); // AAAA, BBBB issued, CCCC taken outside
  });

  it('migration 4: a database with repeated setup IDs opens; units keep theirs, repeated free pool entries are withdrawn, all audited', async () => {
    const path = join(tmp(), 'old.db');
    // A schema-2 database (as the station wrote it before) holding what the old rules allowed.
    const raw = new Database(path);
    raw.exec(migrationSql('sqlite', 0));
    raw.exec(migrationSql('sqlite', 1));
    raw.pragma('user_version = 2');
    const now = new Date().toISOString();
    raw.prepare('INSERT INTO products VALUES (?, ?, ?, ?)').run('p', 'P', 7, now);
    const unit = raw.prepare(`INSERT INTO units (product, mac, chip, setup_code, setup_id, salt, verifier, verifier_sha256, payload, station, operator, status, attempts, created_at, updated_at)
      VALUES ('p', ?, 'esp32', ?, ?, x'00', x'00', '', '', 's', 'o', 'done', 1, ?, ?)`);
    unit.run('24:0a:c4:00:00:01', '10000001', 'DUPE', now, now);
    unit.run('24:0a:c4:00:00:02', '10000002', 'DUPE', now, now);
    unit.run('24:0a:c4:00:00:03', '10000003', 'SOLO', now, now);
    const pool = raw.prepare(`INSERT INTO pool (product, setup_code, setup_id, salt, verifier, imported_at) VALUES ('p', ?, ?, x'00', x'00', ?)`);
    pool.run('20000001', 'DUPE', now); // repeats a unit's ID: withdrawn
    pool.run('20000002', 'POOL', now); // kept
    pool.run('20000003', 'POOL', now); // repeats the entry before it: withdrawn
    pool.run('20000004', 'FREE', now); // kept
    raw.close();

    const db = openRegistry(path);
    try {
      expect(await db.schemaVersion()).toBe(SCHEMA_VERSION);
      expect((await db.listUnits({ product: 'p' })).map((u) => u.setupId).sort()).toEqual(['DUPE', 'DUPE', 'SOLO']);
      expect(await db.poolRemaining('p')).toBe(2);
      expect(await db.countSetupIds('p')).toBe(4); // DUPE, SOLO, POOL, FREE
      const audit = await db.auditRows();
      expect(audit.filter((a) => a.event === 'setup-id-repeated').map((a) => JSON.parse(a.detail!))).toEqual([{ product: 'p', setupId: 'DUPE', units: 2 }]);
      expect(audit.filter((a) => a.event === 'pool-withdrawn').map((a) => JSON.parse(a.detail!).setupId)).toEqual(['DUPE', 'POOL']);
      expect(JSON.stringify(audit)).not.toMatch(/2000000[13]|1000000[12]/);
      // the pool hands out only what was kept, and no ID is issued again
      const got: string[] = [];
      for (const i of [1, 2]) got.push((await db.reserveIdentity({ product: 'p', mac: `24:0a:c4:00:01:0${i}`, chip: 'esp32', station: 's', operator: 'o', usePool: true, poolPayload: () => '', fresh: secrets })).unit.setupId);
      expect(got).toEqual(['POOL', 'FREE']);
      expect(await db.isSetupIdUsed('p', 'DUPE')).toBe(true);
    } finally {
      await db.close();
    }
  });
});
