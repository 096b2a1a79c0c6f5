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

export interface UnitRecord extends UnitSummary {
  setupCode: string;
  payload: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  verifierSha256: string;
  imageSha256: string | null;
  poolId: number | null;
}

export interface NewIdentity {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  payload: string;
  poolId?: number;
}

export interface PoolIdentityRow {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
}

export interface PoolImportResult {
  added: number;
  /** Positions (in the list given) of identities not added: their setup code was already issued. */
  skipped: number[];
}

export interface UnitFilter extends UnitQuery {
  product?: string;
}

const MIGRATIONS: readonly string[] = [
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
  };
}

/** The unit without its secrets: what events, history and the UI lists carry. */
export function unitSummary(u: UnitRecord): UnitSummary {
  const { setupCode: _c, payload: _q, salt: _s, verifier: _v, verifierSha256: _h, imageSha256: _i, poolId: _p, ...summary } = u;
  return summary;
}

export function normalizeMac(mac: string): string {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12) throw new Error(`not a MAC address: ${mac}`);
  return hex.match(/../g)!.join(':');
}

export class ProductionDb {
  private constructor(private readonly db: Database.Database, readonly path: string) {}

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
   * unit holding the next pool identity, or a fresh identity from `fresh()` retried on collision.
   */
  reserveIdentity(input: {
    product: string;
    mac: string;
    chip: string;
    station: string;
    operator: string;
    fresh: () => NewIdentity;
    poolPayload: (code: string, id: string) => string;
    usePool: boolean;
  }): { unit: UnitRecord; existing: boolean } {
    const mac = normalizeMac(input.mac);
    const tx = this.db.transaction((): { unit: UnitRecord; existing: boolean } => {
      const found = this.findByMac(input.product, mac);
      if (found) return { unit: found, existing: true };
      let identity: NewIdentity | undefined;
      if (input.usePool) {
        const p = this.db.prepare('SELECT * FROM pool WHERE product = ? AND unit_id IS NULL ORDER BY id LIMIT 1').get(input.product) as Row | undefined;
        if (!p) throw new Error('the identity pool of this product is empty: import another batch manifest');
        identity = {
          setupCode: p.setup_code as string,
          setupId: p.setup_id as string,
          salt: new Uint8Array(p.salt as Buffer),
          verifier: new Uint8Array(p.verifier as Buffer),
          payload: input.poolPayload(p.setup_code as string, p.setup_id as string),
          poolId: p.id as number,
        };
      } else {
        for (let attempt = 0; attempt < 1000 && !identity; attempt++) {
          const candidate = input.fresh();
          if (!this.isCodeUsed(input.product, candidate.setupCode) && !this.isSetupIdUsed(input.product, candidate.setupId, attempt)) identity = candidate;
        }
        if (!identity) throw new Error('could not find an unused setup code / setup ID for this product');
      }
      const now = this.now();
      const info = this.db
        .prepare(`INSERT INTO units (product, mac, chip, setup_code, setup_id, salt, verifier, verifier_sha256, payload,
                    station, operator, status, attempts, created_at, updated_at, pool_id)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'reserved', 0, ?, ?, ?)`)
        .run(input.product, mac, input.chip, identity.setupCode, identity.setupId, Buffer.from(identity.salt), Buffer.from(identity.verifier),
          createHash('sha256').update(identity.verifier).digest('hex'), identity.payload, input.station, input.operator, now, now, identity.poolId ?? null);
      const id = Number(info.lastInsertRowid);
      this.db.prepare('INSERT OR IGNORE INTO used_codes (product, setup_code) VALUES (?, ?)').run(input.product, identity.setupCode);
      if (identity.poolId !== undefined) this.db.prepare('UPDATE pool SET unit_id = ? WHERE id = ?').run(id, identity.poolId);
      this.auditRow('reserved', id, { mac, setupId: identity.setupId, source: input.usePool ? 'pool' : 'random' });
      return { unit: this.getUnit(id)!, existing: false };
    });
    return tx.immediate();
  }

  /** A code is never issued twice for a product, even if its unit row were ever removed. */
  isCodeUsed(product: string, code: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_codes WHERE product = ? AND setup_code = ?').get(product, code) !== undefined;
  }

  /** For the offline batch (--db): identities must not collide with any product's. */
  isCodeUsedAnywhere(code: string): boolean {
    return this.db.prepare('SELECT 1 FROM used_codes WHERE setup_code = ?').get(code) !== undefined;
  }

  isSetupIdUsedAnywhere(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM units WHERE setup_id = ? UNION SELECT 1 FROM pool WHERE setup_id = ?').get(id, id) !== undefined;
  }

  /** Setup IDs stay unique while the space allows: after many collisions in a row, a repeat is accepted. */
  private isSetupIdUsed(product: string, id: string, attempt: number): boolean {
    if (attempt > 200) return false;
    return this.db.prepare('SELECT 1 FROM units WHERE product = ? AND setup_id = ?').get(product, id) !== undefined;
  }

  countSetupIds(product: string): number {
    return (this.db.prepare('SELECT COUNT(DISTINCT setup_id) AS n FROM units WHERE product = ?').get(product) as { n: number }).n;
  }

  setStatus(id: number, status: UnitStatus, extra: { failure?: string | null; imageSha256?: string; incrementAttempts?: boolean; chip?: string } = {}): UnitRecord {
    const unit = this.getUnit(id);
    if (!unit) throw new Error(`unit ${id} does not exist`);
    this.db
      .prepare(`UPDATE units SET status = ?, failure = ?, image_sha256 = COALESCE(?, image_sha256), chip = COALESCE(?, chip),
                  attempts = attempts + ?, updated_at = ? WHERE id = ?`)
      .run(status, extra.failure === undefined ? (status === 'failed' ? unit.failure : null) : extra.failure, extra.imageSha256 ?? null,
        extra.chip ?? null, extra.incrementAttempts ? 1 : 0, this.now(), id);
    this.auditRow(`status:${status}`, id, extra.failure ? { failure: extra.failure } : undefined);
    return this.getUnit(id)!;
  }

  markLabelPrinted(id: number): UnitRecord {
    const unit = this.getUnit(id);
    if (!unit) throw new Error(`unit ${id} does not exist`);
    const status: UnitStatus = unit.status === 'label-pending' ? 'done' : unit.status;
    this.db.prepare('UPDATE units SET label_print_count = label_print_count + 1, status = ?, updated_at = ? WHERE id = ?').run(status, this.now(), id);
    this.auditRow('label-printed', id);
    return this.getUnit(id)!;
  }

  getUnit(id: number): UnitRecord | undefined {
    const r = this.db.prepare('SELECT * FROM units WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  findByMac(product: string, mac: string): UnitRecord | undefined {
    const r = this.db.prepare('SELECT * FROM units WHERE product = ? AND mac = ?').get(product, normalizeMac(mac)) as Row | undefined;
    return r ? toRecord(r) : undefined;
  }

  listUnits(filter: UnitFilter = {}): UnitRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.product) (where.push('product = ?'), args.push(filter.product));
    if (filter.mac) (where.push('mac LIKE ?'), args.push(`%${filter.mac.toLowerCase().replace(/[^0-9a-f:]/g, '')}%`));
    if (filter.setupId) (where.push('setup_id = ?'), args.push(filter.setupId.toUpperCase()));
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
   * Adds identities to the product's pool, in order, in one transaction. An identity whose setup
   * code the product already issued (a unit provisioned since the batch was made, or the same
   * manifest imported twice) is skipped, never added: the rest of the batch stays usable.
   */
  importPool(product: string, identities: readonly PoolIdentityRow[]): PoolImportResult {
    const insert = this.db.prepare(`INSERT INTO pool (product, setup_code, setup_id, salt, verifier, imported_at) VALUES (?, ?, ?, ?, ?, ?)`);
    const useCode = this.db.prepare('INSERT INTO used_codes (product, setup_code) VALUES (?, ?)');
    const tx = this.db.transaction((): PoolImportResult => {
      const skipped: number[] = [];
      const now = this.now();
      identities.forEach((i, index) => {
        if (this.isCodeUsed(product, i.setupCode)) return void skipped.push(index);
        insert.run(product, i.setupCode, i.setupId, Buffer.from(i.salt), Buffer.from(i.verifier), now);
        useCode.run(product, i.setupCode);
      });
      const added = identities.length - skipped.length;
      this.auditRow('pool-import', null, { product, count: added, skipped: skipped.length });
      return { added, skipped };
    });
    return tx.immediate();
  }

  poolRemaining(product: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM pool WHERE product = ? AND unit_id IS NULL').get(product) as { n: number }).n;
  }

  audit(event: string, unitId: number | null, detail?: Record<string, unknown>): void {
    this.auditRow(event, unitId, detail);
  }

  private auditRow(event: string, unitId: number | null, detail?: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO audit (at, event, unit_id, detail) VALUES (?, ?, ?, ?)').run(this.now(), event, unitId, detail ? JSON.stringify(detail) : null);
  }

  auditRows(): { at: string; event: string; unitId: number | null; detail: string | null }[] {
    return (this.db.prepare('SELECT at, event, unit_id AS unitId, detail FROM audit ORDER BY id').all() as never[]);
  }

  /** The production manifest (CSV, RFC 4180). It holds setup codes: it is the production record. */
  exportManifestCsv(product?: string): string {
    const header = ['product', 'mac', 'chip', 'setup_id', 'setup_code', 'payload', 'status', 'created_at', 'updated_at', 'label_print_count'];
    const units = this.listUnits({ product, limit: 1_000_000 }).reverse();
    const lines = units.map((u) =>
      [u.product, u.mac, u.chip ?? '', u.setupId, u.setupCode, u.payload, u.status, u.createdAt, u.updatedAt, String(u.labelPrintCount)].map(csvField).join(','),
    );
    return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
  }
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
