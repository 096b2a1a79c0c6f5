// The production registry: units, the identity pool, the issued codes and IDs, the audit trail and
// the attempt log — one interface over two engines (SQLite file, PostgreSQL server; engine.ts).
// Every query is written once here (and in attempts.ts); the engines only run them.
//
// The guarantees, on either engine and with any number of stations on one registry:
//   * an identity is reserved in ONE transaction before anything is written to a device (the
//     caller flashes only what reserveIdentity returned), so a station killed at any point finds
//     the unit by its MAC again — whichever station made it — and finishes it with that identity;
//   * a setup code and a setup ID are issued at most once per product: drawn under the issuing
//     policy (shared/station/identity-policy.ts) and, in the end, refused twice by the database's
//     own keys (units(product, setup_code), used_codes, used_setup_ids); two stations drawing the
//     same value at once: one commits, the other draws again;
//   * a pool identity goes to exactly one unit (PostgreSQL: FOR UPDATE SKIP LOCKED, so stations
//     take different rows without waiting for one another; SQLite: one writer at a time);
//   * setup codes never appear in audit rows, attempts, errors or logs.
import { createHash, randomUUID } from 'node:crypto';
import { drawIdentityAsync, issuedConflictAsync, type IssuedIdentitiesAsync } from '../../shared/station/identity-policy.ts';
import type { RandomBytes } from '../../shared/homekit/setup-code.ts';
import type { UnitStatus } from '../../shared/station/events.ts';
import { AttemptLog } from './attempts.ts';
import { SerialsIn, type SerialBlock } from './serials.ts';
import type { SerialScheme } from '../../shared/station/serial.ts';
import type { Engine, RegistryStatus, Row, Sql } from './engine.ts';
import type { RegistryLocation } from './location.ts';
import {
  bytes, csvField, macSearchPattern, normalizeMac, toRecord,
  type NewIdentity, type PoolEmptyPolicy, type PoolIdentityRow, type PoolImportResult, type UnitFilter, type UnitLabelProfile, type UnitRecord,
} from './types.ts';

/** The product's pool is empty and the station is set to stop (not to fall back to fresh identities). */
export class PoolEmptyError extends Error {
  constructor(readonly product: string) {
    super(`The identity pool of ${product} is empty: import the next batch manifest (or let the engineer allow fresh identities when the pool is empty).`);
    this.name = 'PoolEmptyError';
  }
}

export interface ReserveInput {
  product: string;
  mac: string;
  chip: string;
  station: string;
  operator: string;
  /** Makes a fresh identity's salt, verifier and payload for the code and ID the registry drew. */
  fresh: (drawn: { setupCode: string; setupId: string }) => NewIdentity;
  poolPayload: (code: string, id: string) => string;
  usePool: boolean;
  /** With usePool: what an empty pool does (default 'stop'). */
  whenPoolEmpty?: PoolEmptyPolicy;
  /** Randomness for the draw (tests); default the CSPRNG. */
  random?: RandomBytes;
  /** The product's serial scheme; `now` dates the number (default: now). */
  serial?: { scheme: SerialScheme; now?: Date };
}

/** Tries of a reservation that lost a race for a value to another station (each one redraws). */
const RESERVE_TRIES = 8;

export class Registry {
  /** Every run, print and scan (shift counters, history of attempts, the line's counts). */
  readonly attempts: AttemptLog;

  constructor(
    private readonly engine: Engine,
    readonly location: RegistryLocation,
    /** The station writing through this handle (recorded on pool imports and audit rows). */
    readonly station: string,
  ) {
    this.attempts = new AttemptLog(engine);
  }

  get kind(): Engine['kind'] {
    return this.engine.kind;
  }

  /** Where the registry is, without credentials. */
  get shown(): string {
    return this.engine.shown;
  }

  /** Reachability changes of a server registry (SQLite never reports). */
  onStatus(listener: (s: RegistryStatus) => void): () => void {
    return this.engine.onStatus(listener);
  }

  /** Resolves once the registry answers at the schema this code knows (or rejects with why not). */
  async ready(): Promise<void> {
    await this.engine.read(async (q) => q.get('SELECT 1 AS one FROM products LIMIT 1'));
  }

  schemaVersion(): Promise<number> {
    return this.engine.schemaVersion();
  }

  close(): Promise<void> {
    return this.engine.close();
  }

  private now(): string {
    return new Date().toISOString();
  }

  async upsertProduct(product: { id: string; productName: string; category: number }): Promise<void> {
    await this.engine.write((q) => q.run(`INSERT INTO products (id, name, category, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category`, [product.id, product.productName, product.category, this.now()]));
  }

  /**
   * In one transaction: the unit already recorded for this MAC (existing = true; made by any
   * station), or a new unit holding the next free pool identity, or a fresh identity drawn under
   * the issuing policy (then `fresh` makes its salt, verifier and payload). With a serial scheme
   * the unit's serial number is issued in the same transaction (a pool identity keeps the one its
   * batch gave it; a unit recorded before the product had serials gets one now).
   */
  async reserveIdentity(input: ReserveInput): Promise<{ unit: UnitRecord; existing: boolean }> {
    const mac = normalizeMac(input.mac);
    for (let tries = 1; ; tries++) {
      try {
        return await this.engine.write((q) => this.reserveIn(q, input, mac));
      } catch (err) {
        // Another station committed the same MAC, code or ID first: look again, draw again.
        if (!this.engine.isUniqueViolation(err) || tries >= RESERVE_TRIES) throw err;
      }
    }
  }

  private async reserveIn(q: Sql, input: ReserveInput, mac: string): Promise<{ unit: UnitRecord; existing: boolean }> {
    const serials = new SerialsIn(q, this.engine.kind);
    const issueSerial = () => serials.issue(input.product, input.serial!.scheme, { mac, station: input.station, date: input.serial!.now ?? new Date() });
    const found = await q.get('SELECT * FROM units WHERE product = ? AND mac = ?', [input.product, mac]);
    if (found && found.serial === null && input.serial) {
      const row = await q.get('UPDATE units SET serial = ? WHERE id = ? RETURNING *', [await issueSerial(), found.id]);
      return { unit: toRecord(row!), existing: true };
    }
    if (found) return { unit: toRecord(found), existing: true };
    let identity: NewIdentity | undefined;
    let source = 'random';
    if (input.usePool) {
      const lock = this.engine.kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
      const p = await q.get(`SELECT * FROM pool WHERE product = ? AND unit_id IS NULL ORDER BY id LIMIT 1${lock}`, [input.product]);
      if (p) {
        identity = {
          setupCode: p.setup_code as string, setupId: p.setup_id as string, salt: new Uint8Array(p.salt as Uint8Array), verifier: new Uint8Array(p.verifier as Uint8Array),
          payload: input.poolPayload(p.setup_code as string, p.setup_id as string), poolId: p.id as number,
          ...(typeof p.serial === 'string' ? { serial: p.serial } : {}),
        };
        source = 'pool';
      } else if ((input.whenPoolEmpty ?? 'stop') === 'stop') {
        throw new PoolEmptyError(input.product);
      } else {
        source = 'random (pool empty)';
      }
    }
    if (!identity) {
      const drawn = await drawIdentityAsync(this.issuedIn(q, input.product), input.random ? { random: input.random } : {});
      identity = input.fresh(drawn);
      if (identity.setupCode !== drawn.setupCode || identity.setupId !== drawn.setupId) throw new Error('internal: fresh() changed the drawn setup code or setup ID');
    }
    const now = this.now();
    const serial = identity.serial ?? (input.serial ? await issueSerial() : null);
    const row = await q.get<{ id: number }>(
      `INSERT INTO units (product, mac, chip, setup_code, setup_id, salt, verifier, verifier_sha256, payload,
         station, operator, status, attempts, created_at, updated_at, pool_id, serial)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', 0, ?, ?, ?, ?) RETURNING id`,
      [input.product, mac, input.chip, identity.setupCode, identity.setupId, bytes(identity.salt), bytes(identity.verifier),
        createHash('sha256').update(identity.verifier).digest('hex'), identity.payload, input.station, input.operator, now, now, identity.poolId ?? null, serial],
    );
    const id = row!.id;
    // A pool identity's code and ID were recorded when it was imported; a fresh one's are recorded
    // now — plain INSERTs, so the keys refuse a repeat even if a check above were wrong (or raced).
    if (identity.poolId === undefined) {
      await q.run('INSERT INTO used_codes (product, setup_code) VALUES (?, ?)', [input.product, identity.setupCode]);
      await q.run('INSERT INTO used_setup_ids (product, setup_id) VALUES (?, ?)', [input.product, identity.setupId]);
    } else {
      await q.run('UPDATE pool SET unit_id = ? WHERE id = ? AND unit_id IS NULL', [id, identity.poolId]);
    }
    await this.auditIn(q, 'reserved', id, { mac, setupId: identity.setupId, source, ...(serial !== null ? { serial } : {}) });
    return { unit: toRecord((await q.get('SELECT * FROM units WHERE id = ?', [id]))!), existing: false };
  }

  private issuedIn(q: Sql, product: string): IssuedIdentitiesAsync {
    return {
      isIssued: async (kind, value) => (kind === 'setupCode'
        ? await q.get('SELECT 1 AS one FROM used_codes WHERE product = ? AND setup_code = ?', [product, value])
        : await q.get('SELECT 1 AS one FROM used_setup_ids WHERE product = ? AND setup_id = ?', [product, value])) !== undefined,
    };
  }

  /** A code is never issued twice for a product, even if its unit row were ever removed. */
  isCodeUsed(product: string, code: string): Promise<boolean> {
    return this.engine.read((q) => this.issuedIn(q, product).isIssued('setupCode', code));
  }

  /** A setup ID is never issued twice for a product (units and pool alike; no fallback to repeats). */
  isSetupIdUsed(product: string, id: string): Promise<boolean> {
    return this.engine.read((q) => this.issuedIn(q, product).isIssued('setupId', id));
  }

  /** Setup IDs issued for this product (units and pool). */
  async countSetupIds(product: string): Promise<number> {
    return (await this.engine.read((q) => q.get<{ n: number }>('SELECT COUNT(*) AS n FROM used_setup_ids WHERE product = ?', [product])))!.n;
  }

  /**
   * Every setup code or setup ID issued for any product, a page at a time (the offline batch's
   * --db check takes them as its "taken" set).
   */
  async *issuedValues(kind: 'setupCode' | 'setupId', page = 50_000): AsyncGenerator<string[]> {
    const [table, column] = kind === 'setupCode' ? ['used_codes', 'setup_code'] : ['used_setup_ids', 'setup_id'];
    let after = '';
    for (;;) {
      const rows = await this.engine.read((q) => q.all<{ v: string }>(`SELECT DISTINCT ${column} AS v FROM ${table} WHERE ${column} > ? ORDER BY ${column} LIMIT ?`, [after, page]));
      if (rows.length === 0) return;
      yield rows.map((r) => r.v);
      after = rows[rows.length - 1]!.v;
    }
  }

  async setStatus(
    id: number,
    status: UnitStatus,
    extra: { failure?: string | null; imageSha256?: string; incrementAttempts?: boolean; chip?: string; slot?: number | null; labelProfile?: UnitLabelProfile } = {},
  ): Promise<UnitRecord> {
    return this.engine.write(async (q) => {
      const unit = await this.unitIn(q, id);
      const failure = extra.failure === undefined ? (status === 'failed' ? unit.failure : null) : extra.failure;
      const sets = ['status = ?', 'failure = ?', 'image_sha256 = COALESCE(?, image_sha256)', 'chip = COALESCE(?, chip)', 'attempts = attempts + ?', 'updated_at = ?', 'label_profile = COALESCE(?, label_profile)'];
      const args: unknown[] = [status, failure, extra.imageSha256 ?? null, extra.chip ?? null, extra.incrementAttempts ? 1 : 0, this.now(), extra.labelProfile ? JSON.stringify(extra.labelProfile) : null];
      if (extra.slot !== undefined) (sets.push('slot = ?'), args.push(extra.slot));
      const row = await q.get(`UPDATE units SET ${sets.join(', ')} WHERE id = ? RETURNING *`, [...args, id]);
      await this.auditIn(q, `status:${status}`, id, extra.failure ? { failure: extra.failure } : undefined);
      return toRecord(row!);
    });
  }

  private async unitIn(q: Sql, id: number): Promise<UnitRecord> {
    const r = await q.get('SELECT * FROM units WHERE id = ?', [id]);
    if (!r) throw new Error(`unit ${id} does not exist`);
    return toRecord(r);
  }

  /**
   * The label went out: label-pending → done, or → label-printed when the product wants the label
   * scanned back first (a unit is done only once its label is verified). Print count + 1.
   */
  markLabelPrinted(id: number, opts: { awaitScan?: boolean } = {}): Promise<UnitRecord> {
    return this.engine.write(async (q) => {
      const unit = await this.unitIn(q, id);
      let status = unit.status;
      if (unit.status === 'label-pending') status = opts.awaitScan && !unit.labelVerifiedAt ? 'label-printed' : 'done';
      const row = await q.get('UPDATE units SET label_print_count = label_print_count + 1, status = ?, updated_at = ? WHERE id = ? RETURNING *', [status, this.now(), id]);
      await this.auditIn(q, 'label-printed', id);
      return toRecord(row!);
    });
  }

  /** The label's QR was scanned on the unit's own tile: label-printed → done. */
  markLabelVerified(id: number): Promise<UnitRecord> {
    return this.engine.write(async (q) => {
      const unit = await this.unitIn(q, id);
      const status: UnitStatus = unit.status === 'label-printed' || unit.status === 'label-pending' ? 'done' : unit.status;
      const now = this.now();
      const row = await q.get('UPDATE units SET label_verified_at = ?, status = ?, updated_at = ? WHERE id = ? RETURNING *', [now, status, now, id]);
      await this.auditIn(q, 'label-verified', id);
      return toRecord(row!);
    });
  }

  /** The unit whose setup payload (a scanned label) this is, in any product. */
  async findByPayload(payload: string): Promise<UnitRecord | undefined> {
    const r = await this.engine.read((q) => q.get('SELECT * FROM units WHERE payload = ? ORDER BY id LIMIT 1', [payload]));
    return r ? toRecord(r) : undefined;
  }

  async getUnit(id: number): Promise<UnitRecord | undefined> {
    const r = await this.engine.read((q) => q.get('SELECT * FROM units WHERE id = ?', [id]));
    return r ? toRecord(r) : undefined;
  }

  /** The unit of this MAC, whichever station made it. */
  async findByMac(product: string, mac: string): Promise<UnitRecord | undefined> {
    const r = await this.engine.read((q) => q.get('SELECT * FROM units WHERE product = ? AND mac = ?', [product, normalizeMac(mac)]));
    return r ? toRecord(r) : undefined;
  }

  async listUnits(filter: UnitFilter = {}): Promise<UnitRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => (where.push(sql), args.push(value));
    if (filter.product) add('product = ?', filter.product);
    if (filter.station) add('station = ?', filter.station);
    if (filter.mac) add("REPLACE(mac, ':', '') LIKE ?", macSearchPattern(filter.mac));
    if (filter.payload) add('payload = ?', filter.payload);
    if (filter.setupId) add('setup_id = ?', filter.setupId.toUpperCase());
    if (filter.serial) add('serial = ?', filter.serial);
    if (filter.status) add('status = ?', filter.status);
    if (filter.from) add('created_at >= ?', filter.from);
    if (filter.to) add('created_at <= ?', filter.to);
    const sql = `SELECT * FROM units ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (await this.engine.read((q) => q.all(sql, [...args, filter.limit ?? 1000]))).map(toRecord);
  }

  /** Units a crash or a failure left unfinished: reserved, flashing, verified without a label, or failed. */
  async incompleteUnits(product?: string): Promise<UnitRecord[]> {
    const rows = await this.engine.read((q) => q.all(
      `SELECT * FROM units WHERE status IN ('reserved', 'flashing', 'verified', 'failed') ${product ? 'AND product = ?' : ''} ORDER BY id`, product ? [product] : []));
    return rows.map(toRecord);
  }

  /** The station names the registry has seen (units or attempts), for the line's view. */
  async stations(): Promise<string[]> {
    const rows = await this.engine.read((q) => q.all<{ s: string }>('SELECT station AS s FROM units UNION SELECT station AS s FROM attempts ORDER BY s'));
    return rows.map((r) => r.s);
  }

  /**
   * Adds identities to the product's pool, in order, in one transaction, under the issuing policy:
   * an identity whose setup code or setup ID the product already issued (a unit provisioned since
   * the batch was made, another batch's entry, the same manifest imported twice — on any station
   * of the line) is skipped, never added: the rest of the batch stays usable. An entry's serial
   * number must be one this registry gave that batch run (`runId`), or new here. Not retried after
   * a lost connection (the engineer sees at once that nothing was imported).
   */
  importPool(product: string, identities: readonly PoolIdentityRow[], runId?: string): Promise<PoolImportResult> {
    return this.engine.write(async (q) => {
      const issued = this.issuedIn(q, product);
      const serials = new SerialsIn(q, this.engine.kind);
      const skipped: PoolImportResult['skipped'] = [];
      const now = this.now();
      for (const [index, i] of identities.entries()) {
        const conflict = await issuedConflictAsync(i, issued);
        if (conflict) {
          skipped.push({ index, conflict });
          continue;
        }
        if (i.serial !== undefined && !(await serials.adoptImported(product, i.serial, runId))) {
          skipped.push({ index, conflict: 'serial' });
          continue;
        }
        await q.run('INSERT INTO pool (product, setup_code, setup_id, salt, verifier, imported_at, station, serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [product, i.setupCode, i.setupId, bytes(i.salt), bytes(i.verifier), now, this.station, i.serial ?? null]);
        await q.run('INSERT INTO used_codes (product, setup_code) VALUES (?, ?)', [product, i.setupCode]);
        await q.run('INSERT INTO used_setup_ids (product, setup_id) VALUES (?, ?)', [product, i.setupId]);
      }
      const added = identities.length - skipped.length;
      // Serial numbers of skipped entries stay issued (never reused): listed, so the gap is explained.
      const unused = skipped.flatMap((k) => (identities[k.index]!.serial !== undefined ? [identities[k.index]!.serial!] : []));
      await this.auditIn(q, 'pool-import', null, { product, count: added, skipped: skipped.length, ...(unused.length ? { serialsNotImported: unused } : {}) });
      return { added, skipped };
    }, { retry: false });
  }

  /** A batch run's block of serial numbers (taken once per run; asked again, the same block). */
  async reserveSerialBlock(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): Promise<SerialBlock> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.engine.write((q) => new SerialsIn(q, this.engine.kind).reserveBlock(product, scheme, request));
      } catch (err) {
        // Two batches of one run at once (or a station issuing the same number): look again.
        if (!this.engine.isUniqueViolation(err) || tries >= RESERVE_TRIES) throw err;
      }
    }
  }

  /** Has this product issued the serial number (to a unit, a pool entry or a batch)? */
  isSerialUsed(product: string, serial: string): Promise<boolean> {
    return this.engine.read((q) => new SerialsIn(q, this.engine.kind).isUsed(product, serial));
  }

  async poolRemaining(product: string): Promise<number> {
    return (await this.engine.read((q) => q.get<{ n: number }>('SELECT COUNT(*) AS n FROM pool WHERE product = ? AND unit_id IS NULL', [product])))!.n;
  }

  async audit(event: string, unitId: number | null, detail?: Record<string, unknown>): Promise<void> {
    await this.engine.write((q) => this.auditIn(q, event, unitId, detail));
  }

  /** An audit row; its uid makes a retried write (after a lost connection) land once. */
  private async auditIn(q: Sql, event: string, unitId: number | null, detail?: Record<string, unknown>): Promise<void> {
    await q.run('INSERT INTO audit (uid, at, station, event, unit_id, detail) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING',
      [randomUUID().replace(/-/g, ''), this.now(), this.station, event, unitId, detail ? JSON.stringify(detail) : null]);
  }

  async auditRows(): Promise<{ at: string; event: string; unitId: number | null; detail: string | null; station: string | null }[]> {
    return this.engine.read((q) => q.all('SELECT at, event, unit_id AS "unitId", detail, station FROM audit ORDER BY id'));
  }

  /** The production manifest (CSV, RFC 4180). It holds setup codes: it is the production record. */
  async exportManifestCsv(filter: { product?: string; station?: string } = {}): Promise<string> {
    // Columns added later go at the end (station: issue 15, serial: issue 17): older readers are unaffected.
    const header = ['product', 'mac', 'chip', 'setup_id', 'setup_code', 'payload', 'status', 'created_at', 'updated_at', 'label_print_count', 'station', 'serial'];
    const units = (await this.listUnits({ ...filter, limit: 10_000_000 })).reverse();
    const lines = units.map((u) =>
      [u.product, u.mac, u.chip ?? '', u.setupId, u.setupCode, u.payload, u.status, u.createdAt, u.updatedAt, String(u.labelPrintCount), u.station, u.serial ?? ''].map(csvField).join(','),
    );
    return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
  }

  /** The engine, for whole-registry operations (db copy). */
  get raw(): Engine {
    return this.engine;
  }
}

export type { Row };
