// Every attempt on a bench — a provisioning run (provision, retry, re-flash), a label print, a
// label scan — one row each in the registry's `attempts` table, with the station that made it.
// The shift counters and the line's per-station counts are counted from these rows, so they
// survive profile switches and restarts; the history searches them (failed attempts included: a
// failure before the MAC was read still leaves a row with its port, slot and reason). No row
// holds a setup code. A run that reached the boot check keeps the firmware's boot log with it
// (schema 7; the boot check removes any setup code from it). Each row carries a random uid:
// written once even when a lost connection makes the station send it again, and found again by
// `db copy`.
import { randomUUID } from 'node:crypto';
import type { AttemptKind, AttemptOutcome, AttemptQuery, AttemptSummary, LineCounts, ShiftCounters } from '../../shared/station/events.ts';
import type { Engine, Row } from './engine.ts';
import { macSearchPattern } from './types.ts';

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
  /** What the firmware printed at the boot check (setup codes already removed). */
  bootLog?: string | null;
}

export interface AttemptFilter extends AttemptQuery {
  product?: string;
}

const RUN_KINDS = "('provision', 'retry', 'reflash')";

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
  constructor(private readonly engine: Engine) {}

  async record(a: NewAttempt): Promise<void> {
    await this.engine.write((q) => q.run(
      `INSERT INTO attempts (uid, at, station, product, port, slot, unit_id, mac, kind, outcome, stage, code, message, duration_ms, boot_log)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING`,
      [randomUUID().replace(/-/g, ''), new Date().toISOString(), a.station, a.product, a.port ?? null, a.slot ?? null, a.unitId ?? null, a.mac?.toLowerCase() ?? null,
        a.kind, a.outcome, a.stage ?? null, a.code ?? null, a.message ?? null, a.durationMs ?? null, a.bootLog ?? null],
    ));
  }

  /** Newest first. The unit's setup ID comes along (never its code). */
  async list(filter: AttemptFilter = {}): Promise<AttemptSummary[]> {
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
    return (await this.engine.read((q) => q.all(sql, [...args, filter.limit ?? 1000]))).map(toSummary);
  }

  /**
   * The station's shift since `since`: units provisioned (each unit once, however many runs it
   * took), failed runs, and units per hour over the elapsed time (at least one minute).
   */
  async shiftCounters(station: string, since: string, now = Date.now()): Promise<ShiftCounters> {
    const r = await this.engine.read((q) => q.get<{ units: number; failures: number | null }>(
      `SELECT COUNT(DISTINCT CASE WHEN outcome = 'ok' THEN unit_id END) AS units, SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failures
       FROM attempts WHERE station = ? AND at >= ? AND kind IN ${RUN_KINDS}`, [station, since]));
    const units = r?.units ?? 0;
    const hours = Math.max((now - Date.parse(since)) / 3_600_000, 1 / 60);
    return { units, failures: r?.failures ?? 0, unitsPerHour: Math.round(units / hours), since };
  }

  /**
   * The line's view between `from` and `to` (ISO, `to` exclusive): per station the units made
   * (each once) and the failed runs, with their rates per hour over the period, and the same
   * counted hour by hour (UTC hours, 'YYYY-MM-DDTHH').
   */
  async lineCounts(opts: { from: string; to: string; product?: string; station?: string }): Promise<LineCounts> {
    const where = ['at >= ?', 'at < ?', `kind IN ${RUN_KINDS}`];
    const args: unknown[] = [opts.from, opts.to];
    if (opts.product) (where.push('product = ?'), args.push(opts.product));
    if (opts.station) (where.push('station = ?'), args.push(opts.station));
    const counts = `COUNT(DISTINCT CASE WHEN outcome = 'ok' THEN unit_id END) AS units, SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END) AS failures`;
    const [totals, hourly] = await this.engine.read(async (q) => [
      await q.all<{ station: string; units: number; failures: number }>(`SELECT station, ${counts} FROM attempts WHERE ${where.join(' AND ')} GROUP BY station ORDER BY station`, args),
      await q.all<{ station: string; hour: string; units: number; failures: number }>(
        `SELECT station, substr(at, 1, 13) AS hour, ${counts} FROM attempts WHERE ${where.join(' AND ')} GROUP BY station, substr(at, 1, 13) ORDER BY hour, station`, args),
    ] as const);
    const hours = Math.max((Date.parse(opts.to) - Date.parse(opts.from)) / 3_600_000, 1 / 60);
    const rate = (n: number) => Math.round((n / hours) * 100) / 100;
    return {
      from: opts.from,
      to: opts.to,
      stations: totals.map((t) => ({ station: t.station, units: t.units, failures: t.failures ?? 0, unitsPerHour: rate(t.units), failuresPerHour: rate(t.failures ?? 0) })),
      hours: hourly.map((h) => ({ station: h.station, hour: h.hour, units: h.units, failures: h.failures ?? 0 })),
    };
  }
}
