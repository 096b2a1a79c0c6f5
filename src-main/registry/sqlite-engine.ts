// The embedded engine: one SQLite file (better-sqlite3), the single station's registry, offline.
// WAL, synchronous=FULL (a committed reservation survives a power cut), mode 0600 (setup codes
// live here). better-sqlite3 is synchronous, so each unit of work holds a queue slot of its own:
// two ports of one station never interleave statements inside one another's transaction, and a
// write is BEGIN IMMEDIATE (another process waits up to 5 s for the file's write lock).
// The file is migrated when it is opened (one station, one file).
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDirSync } from '../fs/index.ts';
import { RegistrySchemaError, StatusListeners, type Engine, type RegistryStatus, type Row, type Sql, type WorkOptions } from './engine.ts';
import { migrationSql, SCHEMA_VERSION } from './schema.ts';

/** Runs async work one at a time, in call order. */
export class WorkQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function bindable(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}

/**
 * One queue per file for the whole process: better-sqlite3 waits for a file lock synchronously, so
 * two handles on one file in one process (a station and a check of its history) must never have
 * their transactions interleave — the second would block the thread that has to finish the first.
 */
const queues = new Map<string, WorkQueue>();

function queueFor(path: string): WorkQueue {
  if (path === ':memory:') return new WorkQueue();
  const key = existsSync(path) ? realpathSync(path) : path;
  let q = queues.get(key);
  if (!q) queues.set(key, (q = new WorkQueue()));
  return q;
}

export class SqliteEngine implements Engine {
  readonly kind = 'sqlite' as const;
  private readonly queue: WorkQueue;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly status = new StatusListeners();
  private readonly sql: Sql;

  private constructor(private readonly db: Database.Database, readonly shown: string) {
    this.queue = queueFor(shown);
    const stmt = (text: string) => {
      let s = this.statements.get(text);
      if (!s) this.statements.set(text, (s = this.db.prepare(text)));
      return s;
    };
    this.sql = {
      all: async <T>(text: string, params: readonly unknown[] = []) => stmt(text).all(...bindable(params)) as T[],
      get: async <T>(text: string, params: readonly unknown[] = []) => stmt(text).get(...bindable(params)) as T | undefined,
      run: async (text: string, params: readonly unknown[] = []) => {
        const s = stmt(text);
        if (s.reader) return s.all(...bindable(params)).length;
        return s.run(...bindable(params)).changes;
      },
    };
  }

  /** Opens (creating with mode 0600) and migrates the file. A file newer than this code is refused. */
  static open(path: string): SqliteEngine {
    if (path !== ':memory:') {
      ensureDirSync(dirname(path));
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const engine = new SqliteEngine(db, path);
      engine.migrateNow();
      return engine;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** A file's schema version, read without migrating it. */
  static versionOf(path: string): number {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  }

  private version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async schemaVersion(): Promise<number> {
    return this.version();
  }

  private migrateNow(): { from: number; to: number } {
    const from = this.version();
    if (from > SCHEMA_VERSION) {
      throw new RegistrySchemaError(`${this.shown}: the registry is at schema ${from}, newer than this station knows (${SCHEMA_VERSION}): update the station software`);
    }
    const run = this.db.transaction(() => {
      for (let v = this.version(); v < SCHEMA_VERSION; v++) {
        this.db.exec(migrationSql('sqlite', v));
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    run.immediate();
    return { from, to: this.version() };
  }

  migrate(): Promise<{ from: number; to: number }> {
    return this.queue.run(async () => this.migrateNow());
  }

  read<T>(work: (q: Sql) => Promise<T>, options: WorkOptions = {}): Promise<T> {
    if (!options.snapshot) return this.queue.run(() => work(this.sql));
    return this.inTransaction('BEGIN', work);
  }

  write<T>(work: (q: Sql) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN IMMEDIATE', work);
  }

  private inTransaction<T>(begin: string, work: (q: Sql) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.db.exec(begin);
      try {
        const result = await work(this.sql);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  onStatus(listener: (s: RegistryStatus) => void): () => void {
    return this.status.on(listener);
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.db.open) this.db.close();
    });
  }
}

export type { Row };
