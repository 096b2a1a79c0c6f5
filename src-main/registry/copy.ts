// `db copy`: moves a registry's history and pool into another registry — a station's SQLite file
// into the line's PostgreSQL registry, or back — in ONE transaction on the target (all of it or
// nothing), reading the source from one consistent snapshot. Safe to run again: every row is
// recognised by what it is, not by its number, so a second run copies nothing:
//   products by id; units by (product, MAC); pool entries by (product, setup code); issued codes,
//   IDs and serial numbers by themselves; batch serial blocks by run; attempts and audit rows by
//   their random uid (schema 5). A product's serial counter in the target ends at the higher of the two.
// Into an empty target the row numbers are kept too (a copy there and back is row-for-row the
// same). Into a registry that already holds other stations' rows, new rows get new numbers and
// every reference (pool ↔ unit, attempts, audit) follows them.
//
// What the line's registry is there to prevent is refused, never copied: a unit whose MAC holds
// another identity there, or whose setup code or serial number was issued there to something else
// (two devices with one code, or one serial number). Those are listed by MAC, setup ID and station — never by code — and nothing is
// written. A unit whose setup ID alone was issued there is copied (the device exists) and listed in
// the audit trail ('setup-id-repeated'), as migration 4 does; a free pool entry of the source whose
// code, ID or serial number the target already issued is not copied ('pool-withdrawn').
import { randomUUID } from 'node:crypto';
import type { Engine, Row, Sql } from './engine.ts';
import type { TableName } from './schema.ts';

export interface CopyCount {
  /** Rows added to the target. */
  copied: number;
  /** Rows the target had already (found by what they are). */
  present: number;
  /** Units the source had newer than the target (status, labels …), brought up to date. */
  updated?: number;
  /** Source pool entries not copied: their code or ID is already issued in the target. */
  withdrawn?: number;
}

export type CopyReport = Record<TableName, CopyCount>;

export class CopyConflictError extends Error {
  constructor(readonly conflicts: string[], target: string) {
    super(`${target}: ${conflicts.length} unit(s) clash with what the target registry already issued; nothing was copied:\n  ${conflicts.slice(0, 20).join('\n  ')}${conflicts.length > 20 ? `\n  … and ${conflicts.length - 20} more` : ''}`);
    this.name = 'CopyConflictError';
  }
}

const PAGE = 1000;
const MUTABLE_UNIT_COLUMNS = ['chip', 'image_sha256', 'status', 'failure', 'attempts', 'updated_at', 'label_print_count', 'slot', 'label_profile', 'label_verified_at', 'serial'];

async function* pages(s: Sql, table: string): AsyncGenerator<Row[]> {
  let after = -1;
  for (;;) {
    const rows = await s.all(`SELECT * FROM ${table} WHERE id > ? ORDER BY id LIMIT ?`, [after, PAGE]);
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.id as number;
  }
}

async function insertRow(t: Sql, table: string, row: Row, keepId: boolean): Promise<number> {
  const cols = Object.keys(row).filter((c) => keepId || c !== 'id');
  const r = await t.get<{ id: number }>(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')}) RETURNING id`, cols.map((c) => row[c]));
  return r!.id;
}

async function isEmpty(t: Sql, table: string): Promise<boolean> {
  return (await t.get(`SELECT 1 AS one FROM ${table} LIMIT 1`)) === undefined;
}

function newCount(): CopyCount {
  return { copied: 0, present: 0 };
}

/** Copies everything in `source` into `target` (see the top of this file). */
export async function copyRegistry(source: Engine, target: Engine, by: string): Promise<CopyReport> {
  return target.write(async (t) => {
    if (target.kind === 'postgres') await t.run('SELECT pg_advisory_xact_lock(1262834481)');
    return source.read((s) => copyAll(s, t, target.kind, by), { snapshot: true, retry: false });
  }, { retry: false });
}

/** One copy run: the two connections, what the target held at the start, the numbers so far. */
interface Run {
  s: Sql;
  t: Sql;
  report: CopyReport & { units: CopyCount & { updated: number }; pool: CopyCount & { withdrawn: number } };
  /** The target's tables were empty at the start: row numbers are kept. */
  keep: Record<'units' | 'pool' | 'attempts' | 'audit', boolean>;
  /** Nothing at all was in the target: no lookups per row. */
  empty: boolean;
  unitIds: Map<number, number>;
  poolIds: Map<number, number>;
  audit(event: string, unitId: number | null, detail: Record<string, unknown>): Promise<unknown>;
}

async function copyAll(s: Sql, t: Sql, targetKind: Engine['kind'], by: string): Promise<CopyReport> {
  const keep = { units: await isEmpty(t, 'units'), pool: await isEmpty(t, 'pool'), attempts: await isEmpty(t, 'attempts'), audit: await isEmpty(t, 'audit') };
  const now = new Date().toISOString();
  const run: Run = {
    s, t, keep, unitIds: new Map(), poolIds: new Map(),
    report: {
      products: newCount(), units: { ...newCount(), updated: 0 }, pool: { ...newCount(), withdrawn: 0 }, used_codes: newCount(), used_setup_ids: newCount(),
      serial_counters: newCount(), used_serials: newCount(), serial_blocks: newCount(), attempts: newCount(), audit: newCount(),
    },
    empty: keep.units && keep.pool && (await isEmpty(t, 'used_codes')) && (await isEmpty(t, 'used_setup_ids')),
    audit: (event, unitId, detail) => {
      keep.audit = false; // a row of our own takes a number: the source's audit rows then get new ones
      return t.run('INSERT INTO audit (uid, at, station, event, unit_id, detail) VALUES (?, ?, ?, ?, ?, ?)', [randomUUID().replace(/-/g, ''), now, by, event, unitId, JSON.stringify(detail)]);
    },
  };
  for (const p of await s.all('SELECT * FROM products ORDER BY id')) {
    const n = await t.run('INSERT INTO products (id, name, category, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING', [p.id, p.name, p.category, p.created_at]);
    run.report.products[n ? 'copied' : 'present']++;
  }
  const poolClaims = await copyUnits(run);
  await copyPool(run);
  for (const c of poolClaims) {
    const poolId = run.poolIds.get(c.sourcePoolId);
    if (poolId !== undefined) await t.run('UPDATE units SET pool_id = ? WHERE id = ?', [poolId, c.unitId]);
  }
  for (const [table, col] of [['used_codes', 'setup_code'], ['used_setup_ids', 'setup_id']] as const) {
    for (const r of await s.all(`SELECT product, ${col} AS v FROM ${table} ORDER BY product, ${col}`)) {
      const n = await t.run(`INSERT INTO ${table} (product, ${col}) VALUES (?, ?) ON CONFLICT DO NOTHING`, [r.product, r.v]);
      run.report[table][n ? 'copied' : 'present']++;
    }
  }
  await copySerials(run);
  for (const table of ['attempts', 'audit'] as const) await copyLog(run, table);
  if (targetKind === 'postgres') {
    for (const table of ['units', 'pool', 'attempts', 'audit']) {
      await t.run(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM ${table}), false)`);
    }
  }
  return run.report;
}

/** Units, by product and MAC. Returns the pool entries copied units hold (set once the pool is in). */
async function copyUnits(run: Run): Promise<{ unitId: number; sourcePoolId: number }[]> {
  const { s, t, report, unitIds, empty } = run;
  const conflicts: string[] = [];
  const poolClaims: { unitId: number; sourcePoolId: number }[] = [];
  for await (const page of pages(s, 'units')) {
    for (const u of page) {
      const name = `unit ${u.id as number} (${u.product as string}, MAC ${u.mac as string}, setup ID ${u.setup_id as string}, station ${u.station as string})`;
      const there = empty ? undefined : await t.get('SELECT id, setup_code, setup_id, updated_at FROM units WHERE product = ? AND mac = ?', [u.product, u.mac]);
      if (there) {
        if (there.setup_code !== u.setup_code || there.setup_id !== u.setup_id) {
          conflicts.push(`${name}: this MAC holds another identity in the target (setup ID ${there.setup_id as string})`);
          continue;
        }
        unitIds.set(u.id as number, there.id as number);
        if ((u.updated_at as string) > (there.updated_at as string)) {
          await t.run(`UPDATE units SET ${MUTABLE_UNIT_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [...MUTABLE_UNIT_COLUMNS.map((c) => u[c]), there.id]);
          report.units.updated++;
        } else {
          report.units.present++;
        }
        continue;
      }
      const codeTaken = empty ? undefined : await t.get('SELECT 1 AS one FROM used_codes WHERE product = ? AND setup_code = ?', [u.product, u.setup_code]);
      // The same pool identity imported into both registries, still free in the target: the unit claims it.
      const samePool = codeTaken ? await t.get('SELECT id FROM pool WHERE product = ? AND setup_code = ? AND setup_id = ? AND unit_id IS NULL', [u.product, u.setup_code, u.setup_id]) : undefined;
      if (codeTaken && !samePool) {
        conflicts.push(`${name}: its setup code was already issued in the target to another unit or pool entry`);
        continue;
      }
      const serialTaken = empty || u.serial === null ? undefined : await t.get('SELECT source FROM used_serials WHERE product = ? AND serial = ?', [u.product, u.serial]);
      if (serialTaken && !(samePool && (await t.get('SELECT 1 AS one FROM pool WHERE id = ? AND serial = ?', [samePool.id, u.serial])))) {
        conflicts.push(`${name}: its serial number ${u.serial as string} was already issued in the target (${serialTaken.source as string})`);
        continue;
      }
      const idTaken = empty || samePool ? undefined : await t.get('SELECT 1 AS one FROM used_setup_ids WHERE product = ? AND setup_id = ?', [u.product, u.setup_id]);
      const id = await insertRow(t, 'units', { ...u, pool_id: null }, run.keep.units);
      unitIds.set(u.id as number, id);
      report.units.copied++;
      if (samePool) {
        await t.run('UPDATE pool SET unit_id = ? WHERE id = ?', [id, samePool.id]);
        await t.run('UPDATE units SET pool_id = ? WHERE id = ?', [samePool.id, id]);
      } else if (u.pool_id !== null) {
        poolClaims.push({ unitId: id, sourcePoolId: u.pool_id as number });
      }
      if (idTaken) await repeatedSetupId(run, id, u);
      await t.run('INSERT INTO used_codes (product, setup_code) VALUES (?, ?) ON CONFLICT DO NOTHING', [u.product, u.setup_code]);
      await t.run('INSERT INTO used_setup_ids (product, setup_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [u.product, u.setup_id]);
    }
  }
  if (conflicts.length > 0) throw new CopyConflictError(conflicts, 'target');
  return poolClaims;
}

/** A copied unit whose setup ID the target had issued: kept (the device exists), audited; free pool entries with that ID withdrawn. */
async function repeatedSetupId(run: Run, id: number, u: Row): Promise<void> {
  await run.audit('setup-id-repeated', id, { product: u.product, setupId: u.setup_id, mac: u.mac, reason: 'copied from another registry' });
  for (const w of await run.t.all('SELECT id FROM pool WHERE product = ? AND setup_id = ? AND unit_id IS NULL', [u.product, u.setup_id])) {
    await run.t.run('DELETE FROM pool WHERE id = ?', [w.id]);
    await run.audit('pool-withdrawn', null, { product: u.product, setupId: u.setup_id, poolId: w.id, reason: 'setup ID already issued' });
  }
}

/** Pool entries, by product and setup code; a free one whose code, ID or serial number the target issued is not copied. */
async function copyPool(run: Run): Promise<void> {
  const { s, t, report, unitIds, poolIds, empty } = run;
  for await (const page of pages(s, 'pool')) {
    for (const p of page) {
      const there = empty ? undefined : await t.get('SELECT id, unit_id FROM pool WHERE product = ? AND setup_code = ?', [p.product, p.setup_code]);
      const unitId = p.unit_id === null ? null : (unitIds.get(p.unit_id as number) ?? null);
      if (there) {
        poolIds.set(p.id as number, there.id as number);
        if (there.unit_id === null && unitId !== null) await t.run('UPDATE pool SET unit_id = ? WHERE id = ?', [unitId, there.id]);
        report.pool.present++;
        continue;
      }
      if (unitId === null && !empty) {
        const taken = (await t.get('SELECT 1 AS one FROM used_codes WHERE product = ? AND setup_code = ?', [p.product, p.setup_code]))
          ?? (await t.get('SELECT 1 AS one FROM used_setup_ids WHERE product = ? AND setup_id = ?', [p.product, p.setup_id]))
          ?? (p.serial === null ? undefined : await t.get('SELECT 1 AS one FROM used_serials WHERE product = ? AND serial = ?', [p.product, p.serial]));
        if (taken) {
          await run.audit('pool-withdrawn', null, { product: p.product, setupId: p.setup_id, reason: 'already issued in this registry (db copy)' });
          report.pool.withdrawn++;
          continue;
        }
      }
      poolIds.set(p.id as number, await insertRow(t, 'pool', { ...p, unit_id: unitId }, run.keep.pool));
      report.pool.copied++;
    }
  }
}

/**
 * Serial numbers: every issued number (by product and number), every batch block (by run), and the
 * counters — the target's next value is the higher of the two, so neither registry's numbers come again.
 */
async function copySerials(run: Run): Promise<void> {
  const { s, t, report } = run;
  for (const r of await s.all('SELECT * FROM used_serials ORDER BY product, serial')) {
    const n = await t.run('INSERT INTO used_serials (product, serial, counter, source, issued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [r.product, r.serial, r.counter, r.source, r.issued_at]);
    report.used_serials[n ? 'copied' : 'present']++;
  }
  for (const r of await s.all('SELECT * FROM serial_blocks ORDER BY run_id')) {
    const n = await t.run('INSERT INTO serial_blocks (run_id, product, first, count, station, issued_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [r.run_id, r.product, r.first, r.count, r.station, r.issued_at]);
    report.serial_blocks[n ? 'copied' : 'present']++;
  }
  for (const r of await s.all('SELECT * FROM serial_counters ORDER BY product')) {
    const there = await t.get<{ next: number }>('SELECT next FROM serial_counters WHERE product = ?', [r.product]);
    if (there && there.next >= (r.next as number)) {
      report.serial_counters.present++;
    } else {
      await t.run('INSERT INTO serial_counters (product, next) VALUES (?, ?) ON CONFLICT (product) DO UPDATE SET next = excluded.next', [r.product, r.next]);
      report.serial_counters.copied++;
    }
  }
}

/** Attempts or audit rows, by uid, their unit references following the units. */
async function copyLog(run: Run, table: 'attempts' | 'audit'): Promise<void> {
  for await (const page of pages(run.s, table)) {
    for (const r of page) {
      if (!run.keep[table] && (await run.t.get(`SELECT 1 AS one FROM ${table} WHERE uid = ?`, [r.uid]))) {
        run.report[table].present++;
        continue;
      }
      const unitId = r.unit_id === null ? null : (run.unitIds.get(r.unit_id as number) ?? null);
      await insertRow(run.t, table, { ...r, unit_id: unitId }, run.keep[table]);
      run.report[table].copied++;
    }
  }
}
