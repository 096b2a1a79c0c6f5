// Issuing serial numbers, in the registry (tables of schema 6, schema.ts). The one place that
// hands them out, on either engine and with any number of stations on one registry:
//   * issue()         — a unit's number, called by Registry.reserveIdentity INSIDE its transaction:
//                       the serial exists exactly when the identity does (a rollback takes both
//                       back, so the counter has no gap);
//   * reserveBlock()  — the offline batch's numbers, one block of the same counter per batch run,
//                       in one transaction (asked again for the same run, the same block comes back);
//   * adoptImported() — serials carried by an imported batch manifest, checked against the issued ones.
// Every issued serial is a row of used_serials (product, serial): its key refuses a repeat, so a
// number is never issued twice, whatever the format did (a changed format cannot reuse one).
// The product's counter row is locked for the rest of the transaction (PostgreSQL: FOR UPDATE;
// SQLite has one writer at a time), so two stations never take the same counter value.
import { formatSerial, SerialExhaustedError, usesCounter, type SerialScheme } from '../../shared/station/serial.ts';
import type { EngineKind } from './schema.ts';
import type { Sql } from './engine.ts';

export { SerialExhaustedError };

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

/** The serial-number statements of one unit of work (one transaction of the registry). */
export class SerialsIn {
  constructor(private readonly q: Sql, private readonly kind: EngineKind) {}

  /** The product's next counter value, its row locked until the transaction ends. */
  private async nextCounter(product: string, scheme: SerialScheme): Promise<number> {
    await this.q.run('INSERT INTO serial_counters (product, next) VALUES (?, ?) ON CONFLICT (product) DO NOTHING', [product, scheme.start]);
    const lock = this.kind === 'postgres' ? ' FOR UPDATE' : '';
    const row = await this.q.get<{ next: number }>(`SELECT next FROM serial_counters WHERE product = ?${lock}`, [product]);
    return Math.max(row?.next ?? scheme.start, scheme.start);
  }

  private async setNext(product: string, next: number): Promise<void> {
    await this.q.run('UPDATE serial_counters SET next = ? WHERE product = ?', [next, product]);
  }

  async isUsed(product: string, serial: string): Promise<boolean> {
    return (await this.q.get('SELECT 1 AS one FROM used_serials WHERE product = ? AND serial = ?', [product, serial])) !== undefined;
  }

  private async record(product: string, serial: string, counter: number | null, source: string, at: string): Promise<void> {
    await this.q.run('INSERT INTO used_serials (product, serial, counter, source, issued_at) VALUES (?, ?, ?, ?, ?)', [product, serial, counter, source, at]);
  }

  /** The serial of a new unit (inside the reservation's transaction). */
  async issue(product: string, scheme: SerialScheme, unit: { mac: string; station: string; date: Date }): Promise<string> {
    const at = unit.date.toISOString();
    if (!usesCounter(scheme)) {
      const serial = formatSerial(scheme, { mac: unit.mac, date: unit.date, station: unit.station });
      if (await this.isUsed(product, serial)) throw new Error(`serial number ${serial} was already issued for this product`);
      await this.record(product, serial, null, 'unit', at);
      return serial;
    }
    let n = await this.nextCounter(product, scheme);
    for (let skips = 0; ; skips++, n++) {
      const serial = formatSerial(scheme, { counter: n, date: unit.date, station: unit.station });
      if (!(await this.isUsed(product, serial))) {
        await this.record(product, serial, n, 'unit', at);
        await this.setNext(product, n + 1);
        return serial;
      }
      if (skips >= MAX_SKIPS) throw new Error(`serial numbers: ${MAX_SKIPS} numbers in a row are already taken; check serial.format`);
    }
  }

  /**
   * A batch run's block of `count` consecutive counter values; the same run asking again (a
   * resumed or retried batch) gets its block back, nothing new is taken.
   */
  async reserveBlock(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): Promise<SerialBlock> {
    if (!usesCounter(scheme)) throw new Error('serial.format derives serial numbers from the MAC, which a batch does not know: use {counter}');
    const found = await this.q.get('SELECT * FROM serial_blocks WHERE run_id = ?', [request.runId]);
    if (found) {
      if (found.product !== product || found.count !== request.count) throw new Error(`batch ${request.runId} already holds serial numbers of another product or size`);
      const rows = await this.q.all<{ serial: string }>('SELECT serial FROM used_serials WHERE product = ? AND source = ? ORDER BY counter', [product, `batch:${request.runId}`]);
      return { product, runId: request.runId, first: found.first as number, count: found.count as number, station: found.station as string, issuedAt: found.issued_at as string, serials: rows.map((r) => r.serial) };
    }
    const first = await this.nextCounter(product, scheme);
    const issuedAt = request.date.toISOString();
    const serials = Array.from({ length: request.count }, (_, i) => formatSerial(scheme, { counter: first + i, date: request.date, station: request.station }));
    for (const [i, serial] of serials.entries()) {
      if (await this.isUsed(product, serial)) throw new Error(`serial number ${serial} was already issued for this product; check serial.format`);
      await this.record(product, serial, first + i, `batch:${request.runId}`, issuedAt);
    }
    await this.q.run('INSERT INTO serial_blocks (run_id, product, first, count, station, issued_at) VALUES (?, ?, ?, ?, ?, ?)', [request.runId, product, first, request.count, request.station, issuedAt]);
    await this.setNext(product, first + request.count);
    return { product, runId: request.runId, first, count: request.count, station: request.station, issuedAt, serials };
  }

  /**
   * A manifest entry's serial, on pool import (inside the import's transaction): fine when it was
   * issued to that batch run by this registry, or is new here (recorded now); false when it belongs
   * to anything else (the entry is skipped).
   */
  async adoptImported(product: string, serial: string, runId: string | undefined): Promise<boolean> {
    const row = await this.q.get<{ source: string }>('SELECT source FROM used_serials WHERE product = ? AND serial = ?', [product, serial]);
    if (row) {
      if (runId === undefined || row.source !== `batch:${runId}`) return false;
      return (await this.q.get('SELECT 1 AS one FROM pool WHERE product = ? AND serial = ?', [product, serial])) === undefined;
    }
    await this.record(product, serial, null, `import:${runId ?? 'unknown'}`, new Date().toISOString());
    return true;
  }
}
