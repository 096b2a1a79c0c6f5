// Production database (SQLite via better-sqlite3). The identity is reserved in a transaction
// before anything touches the device, so a station killed at any point finds the unit again and
// finishes it with the same identity. Setup codes live here (labels must be reprintable) and in
// the exported manifest, never in audit rows or logs.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { ensureDirSync } from '../fs/index.ts';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { UnitQuery, UnitStatus, UnitSummary } from '../../shared/station/events.ts';
import type { LabelSpec } from '../../shared/label/index.ts';
import type { ProductProfile } from '../../shared/station/profile.ts';
import { AttemptLog, macSearchPattern } from './attempts.ts';
import { SERIAL_MIGRATION, SerialRegistry, type SerialBlock } from './serials.ts';
import type { SerialScheme } from '../../shared/station/serial.ts';
import { drawIdentity, issuedConflict, type IdentityKind, type IssuedIdentities } from '../../shared/station/identity-policy.ts';
import type { RandomBytes } from '../../shared/homekit/setup-code.ts';

export interface UnitRecord extends UnitSummary {
  setupCode: string;
  payload: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  verifierSha256: string;
  imageSha256: string | null;
  poolId: number | null;
  /** The product's label settings when the unit was provisioned (null for units from before schema 3). */
  labelProfile: UnitLabelProfile | null;
}

/** What a unit's label is printed with, kept with the unit so a reprint never takes another product's. */
export interface UnitLabelProfile {
  productName: string;
  label: LabelSpec;
  printer?: ProductProfile['printer'];
  scanBack?: boolean;
}

export interface NewIdentity {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  payload: string;
  poolId?: number;
  /** A pool identity's serial number (given by its batch). */
  serial?: string;
}

export interface PoolIdentityRow {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  /** The serial number the batch gave it (and wrote into its NVS image and label), if any. */
  serial?: string;
}

export interface PoolImportResult {
  added: number;
  /** Identities not added (position in the list given): their setup code, setup ID or serial number was already issued. */
  skipped: { index: number; conflict: IdentityKind | 'serial' }[];
}

export interface UnitFilter extends UnitQuery {
  product?: string;
}

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE products (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, category INTEGER NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE units (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     product TEXT NOT NULL REFERENCES products(id),
     mac TEXT NOT NULL, chip TEXT,
     setup_code TEXT NOT NULL, setup_id TEXT NOT NULL,
     salt BLOB NOT NULL, verifier BLOB NOT NULL, verifier_sha256 TEXT NOT NULL,
     payload TEXT NOT NULL, image_sha256 TEXT,
     station TEXT NOT NULL, operator TEXT NOT NULL,
     status TEXT NOT NULL, failure TEXT, attempts INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
     label_print_count INTEGER NOT NULL DEFAULT 0,
     pool_id INTEGER,
     UNIQUE (product, mac), UNIQUE (product, setup_code));
   CREATE INDEX units_setup_id ON units(product, setup_id);
   CREATE TABLE used_codes (product TEXT NOT NULL, setup_code TEXT NOT NULL, PRIMARY KEY (product, setup_code));
   CREATE TABLE pool (
     id INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT NOT NULL,
     setup_code TEXT NOT NULL, setup_id TEXT NOT NULL, salt BLOB NOT NULL, verifier BLOB NOT NULL,
     unit_id INTEGER REFERENCES units(id), imported_at TEXT NOT NULL,
     UNIQUE (product, setup_code));
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, event TEXT NOT NULL,
     unit_id INTEGER, detail TEXT);`,
  // 2: the next free pool identity and the count left, without scanning the used ones (a 100 000
  // pool near its end took ~15 ms per query).
  `CREATE INDEX pool_free ON pool(product, unit_id, id);`,
  // 3: the multi-port bench. The slot a unit was last flashed in and the label profile it was
  // provisioned with (a reprint after a product switch still prints its own product), scan-back,
  // and one row per attempt (runs, prints, scans) for the shift counters and the history.
  `ALTER TABLE units ADD COLUMN slot INTEGER;
   ALTER TABLE units ADD COLUMN label_profile TEXT;
   ALTER TABLE units ADD COLUMN label_verified_at TEXT;
   CREATE INDEX units_payload ON units(payload);
   CREATE TABLE attempts (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, station TEXT NOT NULL, product TEXT NOT NULL,
     port TEXT, slot INTEGER, unit_id INTEGER, mac TEXT, kind TEXT NOT NULL, outcome TEXT NOT NULL,
     stage TEXT, code TEXT, message TEXT, duration_ms INTEGER);
   CREATE INDEX attempts_station_at ON attempts(station, at);
   CREATE INDEX attempts_unit ON attempts(unit_id);`,
  // 4 (issue 13, one issuing policy): a setup ID is issued once per product, like a setup code.
  // used_setup_ids records every ID a unit or a pool entry has; its key refuses a second one.
  // A database from before held repeats (after 200 collisions the old rule allowed one, and pool
  // imports never checked IDs). What this does with them:
  //   * units keep their IDs: those devices are flashed and labelled, the records must match them.
  //     Each repeated ID is recorded once and listed in an audit row 'setup-id-repeated' (product,
  //     setup ID, number of units), so an engineer can find the units;
  //   * a FREE pool identity whose ID a unit or an earlier pool entry already has is withdrawn
  //     (deleted: it is never issued; its code stays in used_codes, so it never comes back either),
  //     each with an audit row 'pool-withdrawn' (product, setup ID, pool id). Codes are never in audit rows.
  `CREATE TABLE used_setup_ids (product TEXT NOT NULL, setup_id TEXT NOT NULL, PRIMARY KEY (product, setup_id));
   INSERT INTO audit (at, event, unit_id, detail)
     SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'setup-id-repeated', NULL,
            json_object('product', product, 'setupId', setup_id, 'units', COUNT(*))
     FROM units GROUP BY product, setup_id HAVING COUNT(*) > 1;
   CREATE TEMP TABLE withdrawn AS
     SELECT p.id, p.product, p.setup_id FROM pool p
     WHERE p.unit_id IS NULL AND (
       EXISTS (SELECT 1 FROM units u WHERE u.product = p.product AND u.setup_id = p.setup_id)
       OR EXISTS (SELECT 1 FROM pool q WHERE q.product = p.product AND q.setup_id = p.setup_id AND q.id < p.id));
   INSERT INTO audit (at, event, unit_id, detail)
     SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'pool-withdrawn', NULL,
            json_object('product', product, 'setupId', setup_id, 'poolId', id, 'reason', 'setup ID already issued')
     FROM withdrawn ORDER BY id;
   DELETE FROM pool WHERE id IN (SELECT id FROM withdrawn);
   DROP TABLE withdrawn;
   INSERT OR IGNORE INTO used_setup_ids (product, setup_id) SELECT product, setup_id FROM units ORDER BY id;
   INSERT OR IGNORE INTO used_setup_ids (product, setup_id) SELECT product, setup_id FROM pool ORDER BY id;`,
  // 5 (issue 17): serial numbers — per-product counter, every issued number, batch blocks, and the
  // unit's / pool entry's number (serials.ts, the one place that issues them).
  // PORT TO THE POSTGRESQL ENGINE (issue 15) with serials.ts.
  SERIAL_MIGRATION,
  // 6 (issue 17): the firmware's boot log kept with the run that checked it (attempts.ts).
  `ALTER TABLE attempts ADD COLUMN boot_log TEXT;`,
];

type Row = Record<string, unknown>;

function toRecord(r: Row): UnitRecord {
  return {
    id: r.id as number,
    product: r.product as string,
    mac: r.mac as string,
    chip: (r.chip as string | null) ?? null,
    setupCode: r.setup_code as string,
    setupId: r.setup_id as string,
    serial: (r.serial as string | null) ?? null,
    salt: new Uint8Array(r.salt as Buffer),
    verifier: new Uint8Array(r.verifier as Buffer),
    verifierSha256: r.verifier_sha256 as string,
    payload: r.payload as string,
    imageSha256: (r.image_sha256 as string | null) ?? null,
    station: r.station as string,
    operator: r.operator as string,
    status: r.status as UnitStatus,
    failure: (r.failure as string | null) ?? null,
    attempts: r.attempts as number,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    labelPrintCount: r.label_print_count as number,
    poolId: (r.pool_id as number | null) ?? null,
    slot: (r.slot as number | null) ?? null,
    labelVerifiedAt: (r.label_verified_at as string | null) ?? null,
    labelProfile: parseLabelProfile(r.label_profile),
  };
}

function parseLabelProfile(v: unknown): UnitLabelProfile | null {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as UnitLabelProfile;
  } catch {
    return null;
  }
}

/** The unit without its secrets: what events, history and the UI lists carry. */
export function unitSummary(u: UnitRecord): UnitSummary {
  const { setupCode: _c, payload: _q, salt: _s, verifier: _v, verifierSha256: _h, imageSha256: _i, poolId: _p, labelProfile: _l, ...summary } = u;
  return summary;
}

export function normalizeMac(mac: string): string {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12) throw new Error(`not a MAC address: ${mac}`);
  return hex.match(/../g)!.join(':');
}

export class ProductionDb {
  /** Every run, print and scan (shift counters, history of attempts). */
  readonly attempts: AttemptLog;
  /** Serial numbers (issued inside reserveIdentity; batch blocks). */
  readonly serials: SerialRegistry;
  /** Prepared once, reused: the statements of the reservation path (preparing costs ~30 µs each time). */
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database, readonly path: string) {
    this.attempts = new AttemptLog(db);
    this.serials = new SerialRegistry(db);
  }

  private sql(text: string): Database.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) this.statements.set(text, (stmt = this.db.prepare(text)));
    return stmt;
  }

  /** Opens (creating with mode 0600) and migrates the database. */
  static open(path: string): ProductionDb {
    if (path !== ':memory:') {
      ensureDirSync(dirname(path));
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const store = new ProductionDb(db, path);
    store.migrate();
    return store;
  }

  close(): void {
    this.db.close();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const run = this.db.transaction(() => {
      for (let v = this.schemaVersion; v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    run.immediate();
  }

  private now(): string {
    return new Date().toISOString();
  }

  upsertProduct(product: { id: string; productName: string; category: number }): void {
    this.db
      .prepare(`INSERT INTO products (id, name, category, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, category = excluded.category`)
      .run(product.id, product.productName, product.category, this.now());
  }

  /**
   * In one IMMEDIATE transaction: the unit already recorded for this MAC (existing = true), or a new
   * unit holding the next pool identity, or a fresh identity: the setup code and setup ID are drawn
   * here under the issuing policy (shared/station/identity-policy.ts: neither ever issued for this
   * product), then `fresh` makes its salt, verifier and payload (once, for the identity kept).
   * With a serial scheme the unit's serial number is issued in the same transaction (a pool
   * identity keeps the one its batch gave it; a unit recorded before the scheme gets one now).
   */
  reserveIdentity(input: {
    product: string;
    mac: string;
    chip: string;
    station: string;
    operator: string;
    fresh: (drawn: { setupCode: string; setupId: string }) => NewIdentity;
    poolPayload: (code: string, id: string) => string;
    usePool: boolean;
    /** Randomness for the draw (tests); default the CSPRNG. */
    random?: RandomBytes;
    /** The product's serial scheme; `now` dates the number (default: now). */
    serial?: { scheme: SerialScheme; now?: Date };
  }): { unit: UnitRecord; existing: boolean } {
    const mac = normalizeMac(input.mac);
    const issueSerial = () => this.serials.issue(input.product, input.serial!.scheme, { mac, station: input.station, date: input.serial!.now ?? new Date() });
    const tx = this.db.transaction((): { unit: UnitRecord; existing: boolean } => {
      const found = this.findByMac(input.product, mac);
      if (found && found.serial === null && input.serial) {
        this.sql('UPDATE units SET serial = ? WHERE id = ?').run(issueSerial(), found.id);
        return { unit: this.getUnit(found.id)!, existing: true };
      }
      if (found) return { unit: found, existing: true };
      let identity: NewIdentity | undefined;
      if (input.usePool) {
        const p = this.sql('SELECT * FROM pool WHERE product = ? AND unit_id IS NULL ORDER BY id LIMIT 1').get(input.product) as Row | undefined;
        if (!p) throw new Error('the identity pool of this product is empty: import another batch manifest');
        identity = {
          setupCode: p.setup_code as string,
          setupId: p.setup_id as string,
          salt: new Uint8Array(p.salt as Buffer),
          verifier: new Uint8Array(p.verifier as Buffer),
          payload: input.poolPayload(p.setup_code as string, p.setup_id as string),
          poolId: p.id as number,
          ...(typeof p.serial === 'string' ? { serial: p.serial } : {}),
        };
      } else {
        const drawn = drawIdentity(this.issued(input.product), input.random ? { random: input.random } : {});
        identity = input.fresh(drawn);
        if (identity.setupCode !== drawn.setupCode || identity.setupId !== drawn.setupId) throw new Error('internal: fresh() changed the drawn setup code or setup ID');
      }
      const now = this.now();
      const serial = identity.serial ?? (input.serial ? issueSerial() : null);
      const info = this
        .sql(`INSERT INTO units (product, mac, chip, setup_code, setup_id, salt, verifier, verifier_sha256, payload,
                    station, operator, status, attempts, created_at, updated_at, pool_id, serial)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', 0, ?, ?, ?, ?)`)
        .run(input.product, mac, input.chip, identity.setupCode, identity.setupId, Buffer.from(identity.salt), Buffer.from(identity.verifier),
          createHash('sha256').update(identity.verifier).digest('hex'), identity.payload, input.station, input.operator, now, now, identity.poolId ?? null, serial);
      const id = Number(info.lastInsertRowid);
      // A pool identity's code and ID were recorded when it was imported; a fresh one's are recorded
      // now — plain INSERTs, so the tables' keys refuse a repeat even if a check above were wrong.
      if (identity.poolId === undefined) {
        this.sql('INSERT INTO used_codes (product, setup_code) VALUES (?, ?)').run(input.product, identity.setupCode);
        this.sql('INSERT INTO used_setup_ids (product, setup_id) VALUES (?, ?)').run(input.product, identity.setupId);
      }
      if (identity.poolId !== undefined) this.sql('UPDATE pool SET unit_id = ? WHERE id = ?').run(id, identity.poolId);
      this.auditRow('reserved', id, { mac, setupId: identity.setupId, source: input.usePool ? 'pool' : 'random', ...(serial !== null ? { serial } : {}) });
      return { unit: this.getUnit(id)!, existing: false };
    });
    return tx.immediate();
  }

  /** A code is never issued twice for a product, even if its unit row were ever removed. */
  isCodeUsed(product: string, code: string): boolean {
    return this.sql('SELECT 1 FROM used_codes WHERE product = ? AND setup_code = ?').get(product, code) !== undefined;
  }

  /** For the offline batch (--db): identities must not collide with any product's. */
  isCodeUsedAnywhere(code: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_codes WHERE setup_code = ?').get(code) !== undefined;
  }

  isSetupIdUsedAnywhere(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_setup_ids WHERE setup_id = ?').get(id) !== undefined;
  }

  /** A setup ID is never issued twice for a product (units and pool alike; no fallback to repeats). */
  isSetupIdUsed(product: string, id: string): boolean {
    return this.sql('SELECT 1 FROM used_setup_ids WHERE product = ? AND setup_id = ?').get(product, id) !== undefined;
  }

  /** What the issuing policy sees as issued for `product`. */
  issued(product: string): IssuedIdentities {
    return { isIssued: (kind, value) => (kind === 'setupCode' ? this.isCodeUsed(product, value) : this.isSetupIdUsed(product, value)) };
  }

  /** Setup IDs issued for this product (units and pool). */
  countSetupIds(product: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM used_setup_ids WHERE product = ?').get(product) as { n: number }).n;
  }

  setStatus(
    id: number,
    status: UnitStatus,
    extra: { failure?: string | null; imageSha256?: string; incrementAttempts?: boolean; chip?: string; slot?: number | null; labelProfile?: UnitLabelProfile } = {},
  ): UnitRecord {
    const unit = this.getUnit(id);
    if (!unit) throw new Error(`unit ${id} does not exist`);
    this.db
      .prepare(`UPDATE units SET status = ?, failure = ?, image_sha256 = COALESCE(?, image_sha256), chip = COALESCE(?, chip),
                  attempts = attempts + ?, updated_at = ?, slot = CASE WHEN ? THEN ? ELSE slot END,
                  label_profile = COALESCE(?, label_profile) WHERE id = ?`)
      .run(status, extra.failure === undefined ? (status === 'failed' ? unit.failure : null) : extra.failure, extra.imageSha256 ?? null,
        extra.chip ?? null, extra.incrementAttempts ? 1 : 0, this.now(), extra.slot !== undefined ? 1 : 0, extra.slot ?? null,
        extra.labelProfile ? JSON.stringify(extra.labelProfile) : null, id);
    this.auditRow(`status:${status}`, id, extra.failure ? { failure: extra.failure } : undefined);
    return this.getUnit(id)!;
  }

  /**
   * The label went out: label-pending → done, or → label-printed when the product wants the label
   * scanned back first (a unit is done only once its label is verified). Print count + 1.
   */
  markLabelPrinted(id: number, opts: { awaitScan?: boolean } = {}): UnitRecord {
    const unit = this.getUnit(id);
    if (!unit) throw new Error(`unit ${id} does not exist`);
    let status = unit.status;
    if (unit.status === 'label-pending') status = opts.awaitScan && !unit.labelVerifiedAt ? 'label-printed' : 'done';
    this.db.prepare('UPDATE units SET label_print_count = label_print_count + 1, status = ?, updated_at = ? WHERE id = ?').run(status, this.now(), id);
    this.auditRow('label-printed', id);
    return this.getUnit(id)!;
  }

  /** The label's QR was scanned on the unit's own tile: label-printed → done. */
  markLabelVerified(id: number): UnitRecord {
    const unit = this.getUnit(id);
    if (!unit) throw new Error(`unit ${id} does not exist`);
    const status: UnitStatus = unit.status === 'label-printed' || unit.status === 'label-pending' ? 'done' : unit.status;
    const now = this.now();
    this.db.prepare('UPDATE units SET label_verified_at = ?, status = ?, updated_at = ? WHERE id = ?').run(now, status, now, id);
    this.auditRow('label-verified', id);
    return this.getUnit(id)!;
  }

  /** The unit whose setup payload (a scanned label) this is, in any product. */
  findByPayload(payload: string): UnitRecord | undefined {
    const r = this.db.prepare('SELECT * FROM units WHERE payload = ? ORDER BY id LIMIT 1').get(payload) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  getUnit(id: number): UnitRecord | undefined {
    const r = this.sql('SELECT * FROM units WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  findByMac(product: string, mac: string): UnitRecord | undefined {
    const r = this.sql('SELECT * FROM units WHERE product = ? AND mac = ?').get(product, normalizeMac(mac)) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  listUnits(filter: UnitFilter = {}): UnitRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.product) (where.push('product = ?'), args.push(filter.product));
    if (filter.mac) (where.push("REPLACE(mac, ':', '') LIKE ?"), args.push(macSearchPattern(filter.mac)));
    if (filter.payload) (where.push('payload = ?'), args.push(filter.payload));
    if (filter.setupId) (where.push('setup_id = ?'), args.push(filter.setupId.toUpperCase()));
    if (filter.serial) (where.push('serial = ?'), args.push(filter.serial));
    if (filter.status) (where.push('status = ?'), args.push(filter.status));
    if (filter.from) (where.push('created_at >= ?'), args.push(filter.from));
    if (filter.to) (where.push('created_at <= ?'), args.push(filter.to));
    const sql = `SELECT * FROM units ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 1000) as Row[]).map(toRecord);
  }

  /** Units a crash or a failure left unfinished: reserved, flashing, verified without a label, or failed. */
  incompleteUnits(product?: string): UnitRecord[] {
    const rows = this.db
      .prepare(`SELECT * FROM units WHERE status IN ('reserved', 'flashing', 'verified', 'failed') ${product ? 'AND product = ?' : ''} ORDER BY id`)
      .all(...(product ? [product] : [])) as Row[];
    return rows.map(toRecord);
  }

  /**
   * Adds identities to the product's pool, in order, in one transaction, under the issuing policy:
   * an identity whose setup code or setup ID the product already issued (a unit provisioned since
   * the batch was made, another batch's entry, the same manifest imported twice) is skipped, never
   * added: the rest of the batch stays usable.
   */
  importPool(product: string, identities: readonly PoolIdentityRow[], runId?: string): PoolImportResult {
    const insert = this.db.prepare(`INSERT INTO pool (product, setup_code, setup_id, salt, verifier, imported_at, serial) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const useCode = this.db.prepare('INSERT INTO used_codes (product, setup_code) VALUES (?, ?)');
    const useId = this.db.prepare('INSERT INTO used_setup_ids (product, setup_id) VALUES (?, ?)');
    const issued = this.issued(product);
    const tx = this.db.transaction((): PoolImportResult => {
      const skipped: PoolImportResult['skipped'] = [];
      const now = this.now();
      identities.forEach((i, index) => {
        const conflict = issuedConflict(i, issued);
        if (conflict) return void skipped.push({ index, conflict });
        // A serial number the batch gave it must be this batch's, from this database (or new here).
        if (i.serial !== undefined && !this.serials.adoptImported(product, i.serial, runId)) return void skipped.push({ index, conflict: 'serial' });
        insert.run(product, i.setupCode, i.setupId, Buffer.from(i.salt), Buffer.from(i.verifier), now, i.serial ?? null);
        useCode.run(product, i.setupCode);
        useId.run(product, i.setupId);
      });
      const added = identities.length - skipped.length;
      // Serial numbers of skipped entries stay issued (never reused): listed, so the gap is explained.
      const unused = skipped.flatMap((s) => (identities[s.index]!.serial !== undefined ? [identities[s.index]!.serial!] : []));
      this.auditRow('pool-import', null, { product, count: added, skipped: skipped.length, ...(unused.length ? { serialsNotImported: unused } : {}) });
      return { added, skipped };
    });
    return tx.immediate();
  }

  /** A batch run's block of serial numbers (taken once per run; asked again, the same block). */
  reserveSerialBlock(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): SerialBlock {
    return this.serials.reserveBlock(product, scheme, request);
  }

  poolRemaining(product: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM pool WHERE product = ? AND unit_id IS NULL').get(product) as { n: number }).n;
  }

  audit(event: string, unitId: number | null, detail?: Record<string, unknown>): void {
    this.auditRow(event, unitId, detail);
  }

  private auditRow(event: string, unitId: number | null, detail?: Record<string, unknown>): void {
    this.sql('INSERT INTO audit (at, event, unit_id, detail) VALUES (?, ?, ?, ?)').run(this.now(), event, unitId, detail ? JSON.stringify(detail) : null);
  }

  auditRows(): { at: string; event: string; unitId: number | null; detail: string | null }[] {
    return (this.db.prepare('SELECT at, event, unit_id AS unitId, detail FROM audit ORDER BY id').all() as never[]);
  }

  /** The production manifest (CSV, RFC 4180). It holds setup codes: it is the production record. */
  exportManifestCsv(product?: string): string {
    // `serial` is the last column (added by issue 17): readers of the older columns are unaffected.
    const header = ['product', 'mac', 'chip', 'setup_id', 'setup_code', 'payload', 'status', 'created_at', 'updated_at', 'label_print_count', 'serial'];
    const units = this.listUnits({ product, limit: 1_000_000 }).reverse();
    const lines = units.map((u) =>
      [u.product, u.mac, u.chip ?? '', u.setupId, u.setupCode, u.payload, u.status, u.createdAt, u.updatedAt, String(u.labelPrintCount), u.serial ?? ''].map(csvField).join(','),
    );
    return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
  }
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
