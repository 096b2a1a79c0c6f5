// `factory-station db migrate|copy`: the production registry's schema and moving a registry.
//   migrate  brings a registry to this version's schema (a line's PostgreSQL registry is changed
//            only this way; a station's SQLite file is also migrated when a station opens it);
//   copy     moves a station's history and pool into another registry (typically its SQLite file
//            into the line's PostgreSQL registry), in one transaction, safe to run again.
// URLs are shown without user name or password.
import { hostname } from 'node:os';
import { copyRegistry, CopyConflictError, type CopyReport } from '../../registry/copy.ts';
import { migrateRegistry, MIGRATIONS, SCHEMA_VERSION, RegistrySchemaError, RegistryUnavailableError, type Registry } from '../../registry/index.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, dbLocation, INIT_DB_OPTION, openStationDb } from '../db-option.ts';
import { CliError, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';

export const DB_DEF: CommandDef = {
  program: 'factory-station db',
  summary: "The production registry: bring its schema up to date, or copy a registry into another.",
  synopsis: ['migrate [--db FILE|URL]', 'copy --from FILE|URL --to FILE|URL [--init-db]'],
  description: `migrate  creates or updates the registry's tables (needed once for a new line server, and after
         an update of the station software; a SQLite file is also migrated when it is opened)
copy     moves one registry's units, pool, attempts and audit trail into another (e.g. a station's
         station.db into the line's postgres://… registry); run 'factory-station db <command> --help'.`,
  args: { min: 0, max: 0, names: '' },
  options: {},
  examples: ['factory-station db migrate --db postgres://engineer@line-db:5432/line', 'factory-station db copy --from station.db --to postgres://engineer@line-db:5432/line'],
  exitCodes: COMMON_EXIT_CODES,
};

export const MIGRATE_DEF: CommandDef = {
  program: 'factory-station db migrate',
  summary: "Create or update the production registry's schema (versioned migrations, the same for SQLite and PostgreSQL).",
  synopsis: ['[--db FILE|URL]'],
  description: `A PostgreSQL database must exist (createdb) and the user must be allowed to create tables in it.
Every missing migration is applied in one transaction; two engineers running it at once wait for
each other. Stations check the schema version when they start and refuse a registry that is not
exactly theirs (older: migrate it; newer: update the station).`,
  options: { ...DB_OPTION, ...INIT_DB_OPTION },
  examples: ['factory-station db migrate --db postgres://engineer@line-db:5432/line', 'factory-station db migrate --db /srv/station/production.db'],
  exitCodes: COMMON_EXIT_CODES,
};

export const COPY_DEF: CommandDef = {
  program: 'factory-station db copy',
  summary: "Copy a registry's units, identity pool, attempts and audit trail into another registry.",
  synopsis: ['--from FILE|URL --to FILE|URL [--init-db]'],
  description: `One transaction on the target: all of it is copied, or nothing. Rows are recognised by what they
are (a unit by product and MAC, a pool entry by its code, attempts and audit rows by their id), so
running it again copies nothing new, and a copy into an empty registry keeps every row as it is
(there and back gives the same registry). Copying a second station into a line registry refuses
units whose MAC or setup code the line already gave to something else (listed by MAC and setup ID)
and writes nothing; a unit whose setup ID alone is already used is copied and listed in the audit
trail. Both registries must be at this version's schema (factory-station db migrate).`,
  options: {
    from: { type: 'string', arg: 'FILE|URL', help: 'the registry to copy from (it is only read); required' },
    to: { type: 'string', arg: 'FILE|URL', help: 'the registry to copy into; required' },
    'init-db': { type: 'boolean', help: 'create the --to database file if it does not exist' },
  },
  examples: ['factory-station db copy --from station.db --to postgres://engineer@line-db:5432/line', 'factory-station db copy --from postgres://line-db/line --to backup.db --init-db'],
  exitCodes: { ...COMMON_EXIT_CODES, 1: 'failed, or units clash with the target (listed; nothing copied)' },
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'migrate') return migrate(rest, io);
  if (sub === 'copy') return copy(rest, io);
  const parsed = parseCommand(DB_DEF, sub === undefined ? [] : [sub, ...rest].filter((a) => a.startsWith('-')));
  if (parsed.help) return (io.stdout(helpText(DB_DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  throw new CliError(sub === undefined ? 'factory-station db: missing the command: migrate or copy (see factory-station db --help)' : `factory-station db: unknown command '${sub}' (see factory-station db --help)`, 2);
}

async function migrate(argv: string[], io: CliIO): Promise<number> {
  const { values, help, version } = parseCommand(MIGRATE_DEF, argv);
  if (help) return (io.stdout(helpText(MIGRATE_DEF)), 0);
  if (version) return (io.stdout(`${VERSION}\n`), 0);
  const location = dbLocation(io, values, 'db migrate');
  if (location.engine === 'sqlite') {
    // A file: the same rules as every verb (created only at the default path or with --init-db).
    const db = await openStationDb(io, values, 'db migrate', { create: true });
    const v = await db.schemaVersion();
    await db.close();
    io.stdout(`${location.shown}: schema ${v} (current)\n`);
    return 0;
  }
  let r;
  try {
    r = await migrateRegistry(location, { station: hostname() });
  } catch (err) {
    if (err instanceof RegistrySchemaError || err instanceof RegistryUnavailableError) throw new CliError(`db migrate: ${err.message}`, 1);
    throw new CliError(`db migrate: ${location.shown}: ${describe(err)}`, 1);
  }
  if (r.from === r.to) io.stdout(`${r.shown}: schema ${r.to} (current, nothing to do)\n`);
  else io.stdout(`${r.shown}: schema ${r.from} → ${r.to}\n${MIGRATIONS.slice(r.from).map((m, i) => `  ${r.from + i + 1}: ${m.title}`).join('\n')}\n`);
  return 0;
}

/** A PostgreSQL error without anything that could name a credential. */
function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === '42501') return 'the user may not create tables in this database (GRANT CREATE ON SCHEMA public, or run as its owner)';
  return (e?.message ?? String(err)).replace(/"[^"]*"/g, '"…"');
}

async function copy(argv: string[], io: CliIO): Promise<number> {
  const { values, help, version } = parseCommand(COPY_DEF, argv);
  if (help) return (io.stdout(helpText(COPY_DEF)), 0);
  if (version) return (io.stdout(`${VERSION}\n`), 0);
  if (!values.from || !values.to) throw new CliError(`db copy: --from and --to are required (see factory-station db copy --help)`, 2);
  const from = dbLocation(io, values, 'db copy', 'from');
  const to = dbLocation(io, values, 'db copy', 'to');
  if (from.shown === to.shown) throw new CliError(`db copy: --from and --to are the same registry (${from.shown})`, 2);
  const by = hostname();
  const source = await openStationDb(io, values, 'db copy', { create: false, option: 'from', station: by });
  let target: Registry | undefined;
  try {
    target = await openStationDb(io, values, 'db copy', { create: true, option: 'to', station: by });
    const report = await copyRegistry(source.raw, target.raw, by);
    io.stdout(`${from.shown} → ${to.shown} (schema ${SCHEMA_VERSION})\n${reportText(report)}`);
    return 0;
  } catch (err) {
    if (err instanceof CopyConflictError) throw new CliError(`db copy: ${to.shown}${err.message.slice('target'.length)}`, 1);
    if (err instanceof RegistrySchemaError || err instanceof RegistryUnavailableError) throw new CliError(`db copy: ${err.message}`, 1);
    if (err instanceof CliError) throw err;
    throw new CliError(`db copy: ${describe(err)} (nothing was copied)`, 1);
  } finally {
    await source.close();
    await target?.close();
  }
}

function reportText(r: CopyReport): string {
  const rows = Object.entries(r).map(([table, c]) => {
    const extra = [c.updated ? `${c.updated} brought up to date` : '', c.withdrawn ? `${c.withdrawn} not copied (already issued there)` : ''].filter(Boolean).join(', ');
    return `  ${table.padEnd(15)} ${String(c.copied).padStart(8)} copied ${String(c.present).padStart(8)} already there${extra ? `; ${extra}` : ''}`;
  });
  return `${rows.join('\n')}\n`;
}
