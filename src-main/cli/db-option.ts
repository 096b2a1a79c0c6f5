// The `--db` option every station verb shares: one default (./station.db), and no silent new
// database. A typo in --db would otherwise start a second, empty history — and with it lose the
// protection against issuing a setup code twice. So a database is created only at the default path
// or with --init-db; a file that is not a station database is named as such.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ProductionDb } from '../station/db.ts';
import type { OptionDef, OptionValues } from './command.ts';
import { CliError, type CliIO } from './io.ts';

export const DEFAULT_DB = 'station.db';

export const DB_OPTION: Record<'db', OptionDef> = {
  db: { type: 'string', arg: 'FILE', default: `./${DEFAULT_DB}`, help: 'production database (SQLite)' },
};

export const INIT_DB_OPTION: Record<'init-db', OptionDef> = {
  'init-db': { type: 'boolean', help: 'create the database (and its folder) if it does not exist (the default path needs no flag)' },
};

/**
 * Opens the database named by --db. `create`: this verb may start a new database (provision, pool
 * import) — at the default path, or anywhere with --init-db; read-only verbs never create one.
 */
export function openStationDb(io: CliIO, values: OptionValues, verb: string, opts: { create: boolean }): ProductionDb {
  const given = values.db as string | undefined;
  const path = resolve(io.cwd, given ?? DEFAULT_DB);
  if (existsSync(path)) {
    if (!statSync(path).isFile()) throw new CliError(`${verb}: ${path}: not a station database (it is a folder or a device)`, 1);
    // Checked before SQLite touches it (opening would also change its mode to 0600).
    if (statSync(path).size > 0 && !hasSqliteHeader(path)) throw new CliError(`${verb}: ${path}: not a station database (not an SQLite file)`, 1);
  } else if (!opts.create) {
    throw new CliError(`${verb}: ${path}: no such database (provision creates ./${DEFAULT_DB}; check --db)`, 1);
  } else if (path !== resolve(io.cwd, DEFAULT_DB) && values['init-db'] !== true) {
    const why = existsSync(dirname(path)) ? 'does not exist' : `does not exist, nor does its folder ${dirname(path)}`;
    throw new CliError(`${verb}: --db ${path} ${why}: check the path, or add --init-db to start a new database there`, 1);
  }
  try {
    return ProductionDb.open(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new CliError(`${verb}: ${path}: not a station database (SQLite)`, 1);
    throw err;
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
