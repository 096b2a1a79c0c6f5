// The production registry behind one interface (registry.ts): open a SQLite file or a PostgreSQL
// URL and get the same Registry. Station, pipeline, app, CLI and batch use only this module.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseLocation, type RegistryLocation } from './location.ts';
import { PostgresEngine } from './postgres-engine.ts';
import { Registry } from './registry.ts';
import { SqliteEngine } from './sqlite-engine.ts';

export { Registry, PoolEmptyError, type ReserveInput } from './registry.ts';
export { RegistrySchemaError, RegistryUnavailableError, type RegistryStatus } from './engine.ts';
export { isPostgresUrl, LocationError, parseLocation, shownPostgresUrl, type RegistryLocation } from './location.ts';
export { MIGRATIONS, migrationSql, SCHEMA_VERSION } from './schema.ts';
export { MAX_CONNECTIONS } from './postgres-engine.ts';
export type { AttemptFilter, NewAttempt } from './attempts.ts';
export { SerialExhaustedError, type SerialBlock } from './serials.ts';
export * from './types.ts';

export interface OpenOptions {
  /** Relative file paths are taken from here (default: the process's folder). */
  cwd?: string;
  /** The station writing through this handle (default: the host name). */
  station?: string;
  /** A server registry: how long a piece of work keeps waiting for an unreachable server. */
  retryForMs?: number;
  /** A server registry: check its schema version first (false only for `db migrate`). */
  checkSchema?: boolean;
}

/**
 * Opens a registry: a file is created (mode 0600) and migrated if needed; a server registry is
 * connected to on its first piece of work (`await registry.ready()` to check it at once).
 */
export function openRegistry(where: string | RegistryLocation, options: OpenOptions = {}): Registry {
  const location = typeof where === 'string' ? parseLocation(where, options.cwd ?? process.cwd()) : where;
  const station = options.station ?? hostname();
  if (location.engine === 'sqlite') return new Registry(SqliteEngine.open(location.path), location, station);
  const engine = new PostgresEngine(location.url, location.shown, { station, retryForMs: options.retryForMs, checkSchema: options.checkSchema });
  return new Registry(engine, location, station);
}

/**
 * Brings a registry's schema to this code's version (`factory-station db migrate`): a PostgreSQL
 * registry in one transaction (other stations keep working until they are updated), a file as on open.
 */
export async function migrateRegistry(where: string | RegistryLocation, options: OpenOptions = {}): Promise<{ from: number; to: number; shown: string }> {
  const location = typeof where === 'string' ? parseLocation(where, options.cwd ?? process.cwd()) : where;
  const by = options.station ?? hostname();
  if (location.engine === 'sqlite') {
    const before = existsSync(location.path) ? SqliteEngine.versionOf(location.path) : 0;
    const engine = SqliteEngine.open(location.path);
    try {
      return { from: before, to: await engine.schemaVersion(), shown: location.shown };
    } finally {
      await engine.close();
    }
  }
  const engine = new PostgresEngine(location.url, location.shown, { station: by, retryForMs: options.retryForMs ?? 15_000, checkSchema: false });
  try {
    return { ...(await engine.migrate(by)), shown: location.shown };
  } finally {
    await engine.close();
  }
}
