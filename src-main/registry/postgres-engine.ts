// The line's engine: a PostgreSQL server (14+) through the `pg` client, shared by every station.
// Each station keeps a small pool of connections (MAX_CONNECTIONS), named in pg_stat_activity as
// `factory-station <station>`. When the server stops or the network drops, a unit of work that
// lost its connection is rolled back by the server and run again here once a connection can be
// made (backing off up to 2 s between tries), for up to `retryForMs`; the station is told once that
// the registry is unreachable and once that it is back. Work that is not safe to repeat (retry:
// false) fails at once instead. No message carries the URL's user name or password.
//
// The schema is changed only by `migrate` (factory-station db migrate): stations check at their
// first piece of work that the registry is at exactly the version they know.
import pg from 'pg';
import { RegistrySchemaError, RegistryUnavailableError, StatusListeners, type Engine, type RegistryStatus, type Sql, type WorkOptions } from './engine.ts';
import { MIGRATIONS, migrationSql, SCHEMA_VERSION, TABLES } from './schema.ts';

/** Connections one station may hold (a line of 20 stations needs 80 of the server's 100 by default). */
export const MAX_CONNECTIONS = 4;
/** How long a unit of work keeps trying to reach the server by default. */
export const DEFAULT_RETRY_MS = 120_000;
/** One key for `pg_advisory_xact_lock`: migrations and copies run one at a time on a registry. */
const SCHEMA_LOCK = 0x4b46_5331;

export interface PostgresOptions {
  /** The station's name (connection name in pg_stat_activity). */
  station: string;
  /** Keep retrying a unit of work for this long after the server became unreachable. */
  retryForMs?: number;
  /** Check the schema version before the first work (false only for `db migrate`). */
  checkSchema?: boolean;
}

const INT8_OID = 20;
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
};

/** `?` placeholders → `$1, $2 …` (the registry's SQL has no `?` inside quoted text). */
function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03']);

/** The server or the network went away (as opposed to a refused statement). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  return typeof e?.message === 'string' && /Connection terminated|connection error|timeout exceeded when trying to connect|Connection refused|not queryable/i.test(e.message);
}

/** Operator words for an error from the server or the connection; never a credential. */
export function describePgError(err: unknown, shown: string): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === '28P01' || e?.code === '28000') return `${shown}: the server refused the user name or password (check the URL, PGPASSWORD or ~/.pgpass)`;
  if (e?.code === '3D000') return `${shown}: no such database on the server: create it (createdb), then run factory-station db migrate --db <URL>`;
  if (e?.code === 'ECONNREFUSED') return `${shown}: connection refused (is the server running and listening there?)`;
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return `${shown}: unknown host`;
  if (e?.code === 'ENOENT') return `${shown}: no server socket there (is the server running?)`;
  if (isConnectionError(err)) return `${shown}: the connection was lost (${(e?.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 120)})`;
  return `${shown}: ${(e?.message ?? String(err)).replace(/"[^"]*"/g, (m) => (/password|user/i.test(e?.message ?? '') ? '"…"' : m))}`;
}

export class PostgresEngine implements Engine {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly status = new StatusListeners();
  private readonly retryForMs: number;
  private checked: Promise<void> | undefined;
  private closed = false;
  private readonly guarded = new WeakSet<pg.PoolClient>();

  constructor(url: string, readonly shown: string, private readonly options: PostgresOptions) {
    this.retryForMs = options.retryForMs ?? DEFAULT_RETRY_MS;
    this.pool = new pg.Pool({
      connectionString: url,
      max: MAX_CONNECTIONS,
      application_name: `factory-station ${options.station}`.slice(0, 63),
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      types,
    });
    // An idle connection the server closed (restart, network): the pool drops it; next work reconnects.
    this.pool.on('error', (err) => this.offline(err));
  }

  private offline(err: unknown): void {
    if (this.closed) return;
    this.status.report({ online: false, message: `The production database is not reachable — ${describePgError(err, this.shown)}. Waiting for it; the station continues when it is back.` });
  }

  /** Runs `attempt` with a fresh connection, again after a lost connection, for up to retryForMs. */
  private async withClient<T>(attempt: (client: pg.PoolClient) => Promise<T>, retry: boolean): Promise<T> {
    const started = Date.now();
    for (let tries = 0; ; tries++) {
      if (this.closed) throw new RegistryUnavailableError(`${this.shown}: the registry was closed`);
      let client: pg.PoolClient | undefined;
      try {
        client = await this.pool.connect();
        if (!this.guarded.has(client)) {
          // A connection lost while checked out (between two statements) is reported here, not
          // thrown as an unhandled 'error' event; the next statement on it fails and is retried.
          client.on('error', (e) => this.offline(e));
          this.guarded.add(client);
        }
        const result = await attempt(client);
        client.release();
        if (!this.status.online) this.status.report({ online: true, message: `The production database (${this.shown}) is reachable again.` });
        return result;
      } catch (err) {
        client?.release(isConnectionError(err) ? (err as Error) : undefined);
        // Refused at the door (password, no such database …): a configuration error, said plainly.
        if (!client && !isConnectionError(err)) throw new RegistryUnavailableError(describePgError(err, this.shown));
        if (!isConnectionError(err)) throw err;
        this.offline(err);
        if (!retry || Date.now() - started > this.retryForMs) {
          throw new RegistryUnavailableError(`The production database did not answer${retry ? ` for ${Math.round((Date.now() - started) / 1000)} s` : ''} — ${describePgError(err, this.shown)}.`);
        }
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(tries, 5))));
      }
    }
  }

  private sqlOf(client: pg.PoolClient): Sql {
    const query = (text: string, params: readonly unknown[] = []) => client.query({ text: numbered(text), values: params as unknown[] });
    return {
      all: async <T>(text: string, params?: readonly unknown[]) => (await query(text, params)).rows as T[],
      get: async <T>(text: string, params?: readonly unknown[]) => (await query(text, params)).rows[0] as T | undefined,
      run: async (text: string, params?: readonly unknown[]) => (await query(text, params)).rowCount ?? 0,
    };
  }

  private async ready(): Promise<void> {
    if (this.options.checkSchema === false) return;
    this.checked ??= this.checkSchema().catch((err: unknown) => {
      this.checked = undefined;
      throw err;
    });
    return this.checked;
  }

  private async checkSchema(): Promise<void> {
    const v = await this.versionNow(true);
    if (v === SCHEMA_VERSION) return;
    if (v === 0) throw new RegistrySchemaError(`${this.shown}: this database holds no station registry yet: run factory-station db migrate --db <URL> first`);
    if (v < SCHEMA_VERSION) throw new RegistrySchemaError(`${this.shown}: the registry is at schema ${v}, this station needs ${SCHEMA_VERSION}: run factory-station db migrate --db <URL>`);
    throw new RegistrySchemaError(`${this.shown}: the registry is at schema ${v}, newer than this station knows (${SCHEMA_VERSION}): update the station software`);
  }

  private versionNow(retry: boolean): Promise<number> {
    return this.withClient(async (c) => {
      const has = await c.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
      if (!has.rows[0]?.t) return 0;
      const r = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      return r.rows[0]?.v ?? 0;
    }, retry);
  }

  schemaVersion(): Promise<number> {
    return this.versionNow(true);
  }

  /** Applies every missing migration in one transaction (concurrent runs wait for each other). */
  migrate(by: string): Promise<{ from: number; to: number }> {
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, title TEXT NOT NULL, applied_at TEXT NOT NULL, applied_by TEXT NOT NULL)');
        const from = (await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
        if (from === 0) {
          const found = await c.query<{ n: string }>('SELECT table_name AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)', [[...TABLES]]);
          if (found.rows.length > 0) throw new RegistrySchemaError(`${this.shown}: the database already has tables (${found.rows.map((r) => r.n).join(', ')}) but no station schema: use an empty database`);
        }
        if (from > SCHEMA_VERSION) throw new RegistrySchemaError(`${this.shown}: the registry is at schema ${from}, newer than this software knows (${SCHEMA_VERSION})`);
        for (let v = from; v < SCHEMA_VERSION; v++) {
          await c.query(migrationSql('postgres', v));
          await c.query('INSERT INTO schema_migrations (version, title, applied_at, applied_by) VALUES ($1, $2, $3, $4)', [v + 1, MIGRATIONS[v]!.title, new Date().toISOString(), by]);
        }
        await c.query('COMMIT');
        return { from, to: SCHEMA_VERSION };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, false);
  }

  async read<T>(work: (q: Sql) => Promise<T>, options: WorkOptions = {}): Promise<T> {
    await this.ready();
    return this.withClient(async (c) => {
      if (!options.snapshot) return work(this.sqlOf(c));
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const result = await work(this.sqlOf(c));
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, options.retry ?? true);
  }

  async write<T>(work: (q: Sql) => Promise<T>, options: WorkOptions = {}): Promise<T> {
    await this.ready();
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const result = await work(this.sqlOf(c));
        await c.query('COMMIT');
        return result;
      } catch (err) {
        if (!isConnectionError(err)) await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }, options.retry ?? true);
  }

  /** Serialises a unit of work with migrations and other copies on this registry (inside `write`). */
  static lockSql = `SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`;

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown })?.code === '23505';
  }

  onStatus(listener: (s: RegistryStatus) => void): () => void {
    return this.status.on(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch(() => undefined);
  }
}
