// Every attempt on the bench — a provisioning run (provision, retry, re-flash), a label print, a
// label scan — one row each, in the production database's `attempts` table (schema 3, db.ts).
// The shift counters are counted from these rows, so they survive profile switches and restarts;
// the history searches them (failed attempts included: a failure before the MAC was read still
// leaves a row with its port, slot and reason). A run that reached the boot check keeps the
// firmware's boot log with it (schema 6; the boot check removes any setup code from it). No row
// holds a setup code.
import type Database from 'better-sqlite3';
import type { AttemptKind, AttemptOutcome, AttemptQuery, AttemptSummary, ShiftCounters } from '../../shared/station/events.ts';

export interface NewAttempt {
  station: string;
  product: string;
  port?: string | null;
  slot?: number | null;
  unitId?: number | null;
  mac?: string | null;
  kind: AttemptKind;
  outcome: AttemptOutcome;
  stage?: string | null;
  code?: string | null;
  message?: string | null;
  durationMs?: number | null;
  bootLog?: string | null;
}

export interface AttemptFilter extends AttemptQuery {
  station?: string;
  product?: string;
}

/** A LIKE pattern over the MAC's 12 hex digits for a MAC typed in any form ("24:0A:C4", "240ac4", "24-0a-c4"). */
export function macSearchPattern(mac: string): string {
  return `%${mac.toLowerCase().replace(/[^0-9a-f]/g, '')}%`;
}

const RUN_KINDS = "('provision', 'retry', 'reflash')";

type Row = Record<string, unknown>;

function toSummary(r: Row): AttemptSummary {
  return {
    id: r.id as number,
    at: r.at as string,
    station: r.station as string,
    product: r.product as string,
    port: (r.port as string | null) ?? null,
    slot: (r.slot as number | null) ?? null,
    unitId: (r.unit_id as number | null) ?? null,
    mac: (r.mac as string | null) ?? null,
    setupId: (r.setup_id as string | null) ?? null,
    kind: r.kind as AttemptKind,
    outcome: r.outcome as AttemptOutcome,
    stage: (r.stage as string | null) ?? null,
    code: (r.code as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    durationMs: (r.duration_ms as number | null) ?? null,
    bootLog: (r.boot_log as string | null) ?? null,
  };
}

export class AttemptLog {
  constructor(private readonly db: Database.Database) {}

  record(a: NewAttempt): number {
    const info = this.db
      .prepare(`INSERT INTO attempts (at, station, product, port, slot, unit_id, mac, kind, outcome, stage, code, message, duration_ms, boot_log)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(new Date().toISOString(), a.station, a.product, a.port ?? null, a.slot ?? null, a.unitId ?? null, a.mac?.toLowerCase() ?? null,
        a.kind, a.outcome, a.stage ?? null, a.code ?? null, a.message ?? null, a.durationMs ?? null, a.bootLog ?? null);
    return Number(info.lastInsertRowid);
  }

  /** Newest first. The unit's setup ID comes along (never its code). */
  list(filter: AttemptFilter = {}): AttemptSummary[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => (where.push(sql), args.push(value));
    if (filter.station) add('a.station = ?', filter.station);
    if (filter.product) add('a.product = ?', filter.product);
    if (filter.mac) add("REPLACE(COALESCE(a.mac, u.mac, ''), ':', '') LIKE ?", macSearchPattern(filter.mac));
    if (filter.setupId) add('u.setup_id = ?', filter.setupId.toUpperCase());
    if (filter.unitId !== undefined) add('a.unit_id = ?', filter.unitId);
    if (filter.outcome) add('a.outcome = ?', filter.outcome);
    if (filter.kind) add('a.kind = ?', filter.kind);
    if (filter.from) add('a.at >= ?', filter.from);
    if (filter.to) add('a.at <= ?', filter.to);
    const sql = `SELECT a.*, u.setup_id FROM attempts a LEFT JOIN units u ON u.id = a.unit_id
                 ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY a.id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1000) as Row[]).map(toSummary);
  }

  /**
   * The station's shift since `since`: units provisioned (each unit once, however many runs it
   * took), failed runs, and units per hour over the elapsed time (at least one minute).
   */
  shiftCounters(station: string, since: string, now = Date.now()): ShiftCounters {
    const units = (this.db
      .prepare(`SELECT COUNT(DISTINCT unit_id) AS n FROM attempts WHERE station = ? AND at >= ? AND kind IN ${RUN_KINDS} AND outcome = 'ok'`)
      .get(station, since) as { n: number }).n;
    const failures = (this.db
      .prepare(`SELECT COUNT(*) AS n FROM attempts WHERE station = ? AND at >= ? AND kind IN ${RUN_KINDS} AND outcome = 'failed'`)
      .get(station, since) as { n: number }).n;
    const hours = Math.max((now - Date.parse(since)) / 3_600_000, 1 / 60);
    return { units, failures, unitsPerHour: Math.round(units / hours), since };
  }
}
