// The `--db` option every station verb shares: a SQLite file (default ./station.db) or a line's
// PostgreSQL registry (postgres://user@host:5432/database), also taken from $STATION_DB when --db
// is not given. No silent new database: a typo in --db would otherwise start a second, empty
// history — and with it lose the protection against issuing a setup code twice. So a file is
// created only at the default path or with --init-db, a file that is not a station database is
// named as such, and a server database must exist and be migrated (factory-station db migrate).
// A URL's user name and password are never printed: messages show postgres://host:port/database.
// An unreachable server is waited for (15 s; provision 2 min; STATION_DB_WAIT=seconds sets it).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LocationError, openRegistry, parseLocation, RegistrySchemaError, RegistryUnavailableError, type Registry, type RegistryLocation } from '../registry/index.ts';
import type { OptionDef, OptionValues } from './command.ts';
import { CliError, type CliIO } from './io.ts';

export const DEFAULT_DB = 'station.db';

export const DB_OPTION: Record<'db', OptionDef> = {
  db: { type: 'string', arg: 'FILE|URL', default: `$STATION_DB, else ./${DEFAULT_DB}`, help: 'production registry: a SQLite file, or a line\'s postgres://user@host:5432/database' },
};

export const INIT_DB_OPTION: Record<'init-db', OptionDef> = {
  'init-db': { type: 'boolean', help: 'create the database file (and its folder) if it does not exist (the default path needs no flag; a server database is made by db migrate)' },
};

/** Where --db (or $STATION_DB, or the default) points. Bad values are a command-line mistake (exit 2). */
export function dbLocation(io: CliIO, values: OptionValues, verb: string, option = 'db'): RegistryLocation {
  const given = (values[option] as string | undefined) ?? (option === 'db' ? io.env.STATION_DB : undefined);
  try {
    return parseLocation(given ?? DEFAULT_DB, io.cwd);
  } catch (err) {
    if (err instanceof LocationError) throw new CliError(`${verb}: --${option}: ${err.message}`, 2);
    throw err;
  }
}

/**
 * Opens the registry named by --db. `create`: this verb may start a new database file (provision,
 * pool import) — at the default path, or anywhere with --init-db; read-only verbs never create one.
 * A server registry is checked at once (reachable, migrated), waiting up to `waitMs` for it.
 */
export async function openStationDb(
  io: CliIO,
  values: OptionValues,
  verb: string,
  opts: { create: boolean; station?: string; waitMs?: number; option?: string },
): Promise<Registry> {
  const option = opts.option ?? 'db';
  const location = dbLocation(io, values, verb, option);
  if (location.engine === 'sqlite') {
    checkFile(io, location.path, values, verb, opts.create, option);
    try {
      return openRegistry(location, { station: opts.station });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new CliError(`${verb}: ${location.path}: not a station database (SQLite)`, 1);
      if (err instanceof RegistrySchemaError) throw new CliError(`${verb}: ${err.message}`, 1);
      throw err;
    }
  }
  const registry = openRegistry(location, { station: opts.station, retryForMs: waitMs(io, opts.waitMs ?? 15_000) });
  try {
    await registry.ready();
    return registry;
  } catch (err) {
    await registry.close();
    throw registryCliError(verb, err);
  }
}

/** How long to wait for an unreachable server: STATION_DB_WAIT (seconds) overrides the verb's default. */
function waitMs(io: CliIO, fallback: number): number {
  const s = Number(io.env.STATION_DB_WAIT);
  return io.env.STATION_DB_WAIT !== undefined && Number.isFinite(s) && s >= 0 ? s * 1000 : fallback;
}

/** A registry failure as one CLI line (exit 1); anything else is passed on. */
export function registryCliError(verb: string, err: unknown): unknown {
  if (err instanceof RegistrySchemaError || err instanceof RegistryUnavailableError) return new CliError(`${verb}: ${err.message}`, 1);
  return err;
}

function checkFile(io: CliIO, path: string, values: OptionValues, verb: string, create: boolean, option: string): void {
  if (path === ':memory:') return;
  if (existsSync(path)) {
    if (!statSync(path).isFile()) throw new CliError(`${verb}: ${path}: not a station database (it is a folder or a device)`, 1);
    // Checked before SQLite touches it (opening would also change its mode to 0600).
    if (statSync(path).size > 0 && !hasSqliteHeader(path)) throw new CliError(`${verb}: ${path}: not a station database (not an SQLite file)`, 1);
  } else if (!create) {
    throw new CliError(`${verb}: ${path}: no such database (provision creates ./${DEFAULT_DB}; check --${option})`, 1);
  } else if (path !== resolve(io.cwd, DEFAULT_DB) && values['init-db'] !== true) {
    const why = existsSync(dirname(path)) ? 'does not exist' : `does not exist, nor does its folder ${dirname(path)}`;
    throw new CliError(`${verb}: --${option} ${path} ${why}: check the path, or add --init-db to start a new database there`, 1);
  }
}

const SQLITE_MAGIC = 'SQLite format 3\0';

function hasSqliteHeader(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === SQLITE_MAGIC;
  } finally {
    closeSync(fd);
  }
}
