// db copy merging a second station's registry into one that already holds units (SQLite files:
// the copy is written once for both engines; the PostgreSQL runs are in db-copy.test.ts): the same
// batch identity used on one side and free on the other is claimed, not refused; a unit whose
// setup ID alone was issued already is copied and audited; a unit brought up to date on its
// station is brought up to date again; a second run copies nothing. Two stations that both issued
// one serial number (each had its own counter) are refused, named, and nothing is written.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRegistry, CopyConflictError } from '../../src-main/registry/copy.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';

const entry = (setupCode: string, setupId: string) => ({ setupCode, setupId, salt: new Uint8Array(16).fill(1), verifier: new Uint8Array(384).fill(2) });
const reserve = (db: Registry, mac: string, usePool: boolean) => db.reserveIdentity({
  product: 'p', mac, chip: 'esp32', station: db.station, operator: 'o', usePool, poolPayload: (_c, id) => `X-HM://${id}`,
  fresh: (d) => ({ ...d, salt: new Uint8Array(16), verifier: new Uint8Array(384), payload: `X-HM://${d.setupId}` }),
});

describe('db copy into a registry that already holds units', () => {
  it('claims a shared batch identity, copies and audits a repeated setup ID, updates newer units, and copies nothing the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-merge-'));
    const bench = openRegistry(join(dir, 'bench.db'), { station: 'bench' });
    const fresh = openRegistry(join(dir, 'line.db'), { station: 'line' });
    try {
      for (const db of [fresh, bench]) await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
      // the same manifest entry (11111111 / AAAA) imported on both; each side has another entry with setup ID ABCD
      await fresh.importPool('p', [entry('11111111', 'AAAA'), entry('33333333', 'ABCD')]);
      await bench.importPool('p', [entry('11111111', 'AAAA'), entry('22222222', 'ABCD')]);
      await reserve(fresh, '24:0a:c4:00:00:09', false); // a unit of the line's own (fresh identity)
      const usedOnBench = await reserve(bench, '24:0a:c4:00:00:02', true); // 11111111 / AAAA
      const repeated = await reserve(bench, '24:0a:c4:00:00:03', true); // 22222222 / ABCD
      expect([usedOnBench.unit.setupCode, repeated.unit.setupCode]).toEqual(['11111111', '22222222']);

      const report = await copyRegistry(bench.raw, fresh.raw, 'engineer');
      expect(report.units).toMatchObject({ copied: 2, present: 0 });
      const claimed = (await fresh.findByMac('p', '24:0a:c4:00:00:02'))!;
      expect(claimed.setupCode).toBe('11111111');
      expect(claimed.poolId).not.toBeNull();
      expect(await fresh.poolRemaining('p')).toBe(0); // the shared entry is now the copied unit's; the line's ABCD entry is withdrawn
      const audit = await fresh.auditRows();
      expect(audit.filter((r) => r.event === 'setup-id-repeated').map((r) => JSON.parse(r.detail!))).toMatchObject([{ setupId: 'ABCD', mac: '24:0a:c4:00:00:03' }]);
      expect(audit.filter((r) => r.event === 'pool-withdrawn').map((r) => JSON.parse(r.detail!).setupId)).toEqual(['ABCD']);
      expect(JSON.stringify(audit)).not.toMatch(/11111111|22222222|33333333/);

      // the bench goes on with a unit; a second copy brings only that change
      await bench.setStatus(repeated.unit.id, 'done');
      const again = await copyRegistry(bench.raw, fresh.raw, 'engineer');
      expect(again.units).toMatchObject({ copied: 0, updated: 1 });
      expect((await fresh.findByMac('p', '24:0a:c4:00:00:03'))!.status).toBe('done');
      const third = await copyRegistry(bench.raw, fresh.raw, 'engineer');
      for (const [table, c] of Object.entries(third)) expect(c.copied, table).toBe(0);
      expect(third.units.updated).toBe(0);
    } finally {
      await fresh.close();
      await bench.close();
    }
  });
  it('refuses two units with one serial number (two stations, each with its own counter), naming them; nothing is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-merge-sn-'));
    const scheme = { format: 'FAN-{counter}', digits: 6, start: 1, nvs: { namespace: 'app', key: 'serial' } };
    const a = openRegistry(join(dir, 'a.db'), { station: 'bench-a' });
    const b = openRegistry(join(dir, 'b.db'), { station: 'bench-b' });
    try {
      for (const db of [a, b]) await db.upsertProduct({ id: 'p', productName: 'P', category: 7 });
      const serialOf = async (db: Registry, mac: string) => (await db.reserveIdentity({
        product: 'p', mac, chip: 'esp32', station: db.station, operator: 'o', usePool: false, poolPayload: () => '', serial: { scheme },
        fresh: (d) => ({ ...d, salt: new Uint8Array(16), verifier: new Uint8Array(384), payload: `X-HM://${d.setupId}` }),
      })).unit.serial;
      expect(await serialOf(a, '24:0a:c4:00:00:01')).toBe('FAN-000001');
      expect(await serialOf(b, '24:0a:c4:00:00:02')).toBe('FAN-000001');
      const err = await copyRegistry(b.raw, a.raw, 'engineer').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CopyConflictError);
      expect((err as Error).message).toMatch(/MAC 24:0a:c4:00:00:02.*serial number FAN-000001 was already issued in the target/);
      expect(await a.listUnits()).toHaveLength(1);
      // the refused copy left the target's counter as it was: its next unit continues it
      expect(await serialOf(a, '24:0a:c4:00:00:03')).toBe('FAN-000002');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
