// Issuing serial numbers, in the production database (tables of migration 5 in db.ts). The one
// place that hands them out:
//   * issue()        — a unit's number, called by ProductionDb.reserveIdentity INSIDE its
//                      transaction: the serial exists exactly when the identity does (a rollback
//                      takes both back, so the counter has no gap);
//   * reserveBlock() — the offline batch's numbers, one block of the same counter per batch run,
//                      in one transaction (asked again for the same run, the same block comes back);
//   * adoptImported()— serials carried by an imported batch manifest, checked against the issued ones.
// Every issued serial is a row of used_serials (product, serial) — its key refuses a repeat, so a
// number is never issued twice, whatever the format did (a changed format cannot reuse one).
//
// PORT TO THE POSTGRESQL ENGINE (issue 15): the three tables, `SELECT … FOR UPDATE` on the
// counter row (SQLite's IMMEDIATE transaction serialises writers here), the same statements.
import type Database from 'better-sqlite3';
import { formatSerial, SerialExhaustedError, usesCounter, type SerialScheme } from '../../shared/station/serial.ts';

export { SerialExhaustedError };

/** Tables and columns of the serial numbers (appended to db.ts MIGRATIONS as number 5). */
export const SERIAL_MIGRATION = `
  CREATE TABLE serial_counters (product TEXT PRIMARY KEY, next INTEGER NOT NULL);
  CREATE TABLE used_serials (
    product TEXT NOT NULL, serial TEXT NOT NULL, counter INTEGER, source TEXT NOT NULL, issued_at TEXT NOT NULL,
    PRIMARY KEY (product, serial));
  CREATE TABLE serial_blocks (
    run_id TEXT PRIMARY KEY, product TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,
    station TEXT NOT NULL, issued_at TEXT NOT NULL);
  ALTER TABLE units ADD COLUMN serial TEXT;
  ALTER TABLE pool ADD COLUMN serial TEXT;
  CREATE UNIQUE INDEX units_serial ON units(product, serial) WHERE serial IS NOT NULL;`;

/** A block of the counter taken by one batch run. */
export interface SerialBlock {
  product: string;
  runId: string;
  first: number;
  count: number;
  station: string;
  /** ISO time: the date parts of the block's serials. */
  issuedAt: string;
  /** The block's serial numbers in counter order, as recorded (a resumed batch gets the same text). */
  serials: string[];
}

/** Redraws when a formatted number is already taken (only after a format change): bounded. */
const MAX_SKIPS = 10_000;

export class SerialRegistry {
  constructor(private readonly db: Database.Database) {}

  private nextCounter(product: string, scheme: SerialScheme): number {
    const row = this.db.prepare('SELECT next FROM serial_counters WHERE product = ?').get(product) as { next: number } | undefined;
    return Math.max(row?.next ?? scheme.start, scheme.start);
  }

  private setNext(product: string, next: number): void {
    this.db.prepare('INSERT INTO serial_counters (product, next) VALUES (?, ?) ON CONFLICT(product) DO UPDATE SET next = excluded.next').run(product, next);
  }

  isUsed(product: string, serial: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_serials WHERE product = ? AND serial = ?').get(product, serial) !== undefined;
  }

  private record(product: string, serial: string, counter: number | null, source: string, at: string): void {
    this.db.prepare('INSERT INTO used_serials (product, serial, counter, source, issued_at) VALUES (?, ?, ?, ?, ?)').run(product, serial, counter, source, at);
  }

  /** The serial of a new unit (call inside the reservation's transaction). */
  issue(product: string, scheme: SerialScheme, unit: { mac: string; station: string; date: Date }): string {
    const at = unit.date.toISOString();
    if (!usesCounter(scheme)) {
      const serial = formatSerial(scheme, { mac: unit.mac, date: unit.date, station: unit.station });
      if (this.isUsed(product, serial)) throw new Error(`serial number ${serial} was already issued for this product`);
      this.record(product, serial, null, 'unit', at);
      return serial;
    }
    let n = this.nextCounter(product, scheme);
    for (let skips = 0; ; skips++, n++) {
      const serial = formatSerial(scheme, { counter: n, date: unit.date, station: unit.station });
      if (!this.isUsed(product, serial)) {
        this.record(product, serial, n, 'unit', at);
        this.setNext(product, n + 1);
        return serial;
      }
      if (skips >= MAX_SKIPS) throw new Error(`serial numbers: ${MAX_SKIPS} numbers in a row are already taken; check serial.format`);
    }
  }

  /**
   * A batch run's block of `count` consecutive counter values, in one transaction; the same run
   * asking again (a resumed or retried batch) gets its block back, nothing new is taken.
   */
  reserveBlock(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): SerialBlock {
    if (!usesCounter(scheme)) throw new Error('serial.format derives serial numbers from the MAC, which a batch does not know: use {counter}');
    const tx = this.db.transaction((): SerialBlock => {
      const found = this.db.prepare('SELECT * FROM serial_blocks WHERE run_id = ?').get(request.runId) as Record<string, unknown> | undefined;
      if (found) {
        if (found.product !== product || found.count !== request.count) throw new Error(`batch ${request.runId} already holds serial numbers of another product or size`);
        const serials = (this.db.prepare('SELECT serial FROM used_serials WHERE product = ? AND source = ? ORDER BY counter').all(product, `batch:${request.runId}`) as { serial: string }[]).map((r) => r.serial);
        return { product, runId: request.runId, first: found.first as number, count: found.count as number, station: found.station as string, issuedAt: found.issued_at as string, serials };
      }
      const first = this.nextCounter(product, scheme);
      const issuedAt = request.date.toISOString();
      const serials = Array.from({ length: request.count }, (_, i) => formatSerial(scheme, { counter: first + i, date: request.date, station: request.station }));
      serials.forEach((serial, i) => {
        if (this.isUsed(product, serial)) throw new Error(`serial number ${serial} was already issued for this product; check serial.format`);
        this.record(product, serial, first + i, `batch:${request.runId}`, issuedAt);
      });
      const block: SerialBlock = { product, runId: request.runId, first, count: request.count, station: request.station, issuedAt, serials };
      this.db.prepare('INSERT INTO serial_blocks (run_id, product, first, count, station, issued_at) VALUES (?, ?, ?, ?, ?, ?)').run(request.runId, product, first, request.count, request.station, block.issuedAt);
      this.setNext(product, first + request.count);
      return block;
    });
    return tx.immediate();
  }

  /**
   * A manifest entry's serial, on pool import (inside the import's transaction): fine when it was
   * issued to that batch run by this database, or is new here (recorded now); false when it belongs
   * to anything else (the entry is skipped).
   */
  adoptImported(product: string, serial: string, runId: string | undefined): boolean {
    const row = this.db.prepare('SELECT source FROM used_serials WHERE product = ? AND serial = ?').get(product, serial) as { source: string } | undefined;
    if (row) return runId !== undefined && row.source === `batch:${runId}` && this.db.prepare('SELECT 1 FROM pool WHERE product = ? AND serial = ?').get(product, serial) === undefined;
    this.record(product, serial, null, `import:${runId ?? 'unknown'}`, new Date().toISOString());
    return true;
  }
}
