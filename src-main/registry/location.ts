// Where a production registry is: a SQLite file path (one station, the default) or a PostgreSQL
// URL (a line: postgres://user@host:5432/database). A URL may carry a password; it is used to
// connect and never shown: `shown` keeps host, port and database only, and is what every message,
// log line, setting shown back and history row uses. The password may also come from PGPASSWORD
// or ~/.pgpass (the pg client reads both), so it need not be in a URL at all.
import { resolve } from 'node:path';

export type RegistryLocation =
  | { engine: 'sqlite'; path: string; shown: string }
  | { engine: 'postgres'; url: string; shown: string };

export class LocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocationError';
  }
}

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

/** A postgres:// URL without user name, password or query values that could be secrets. */
export function shownPostgresUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return 'postgres://(unreadable URL)';
  }
  const socket = u.searchParams.get('host');
  const host = u.hostname ? decodeURIComponent(u.hostname) : '';
  const where = host.startsWith('/') ? `[${host}]` : host || (socket ? `[${socket}]` : 'localhost');
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return `postgres://${where}${u.port ? `:${u.port}` : ''}/${db}`;
}

/** Reads a --db / STATION_DB / Settings value. Relative file paths are taken from `cwd`. */
export function parseLocation(text: string, cwd: string): RegistryLocation {
  const value = text.trim();
  if (value === '') throw new LocationError('the database location is empty: give a file path or a postgres:// URL');
  if (isPostgresUrl(value)) {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw new LocationError('not a valid PostgreSQL URL (expected postgres://user@host:5432/database)');
    }
    const shown = shownPostgresUrl(value);
    if (!u.pathname || u.pathname === '/') throw new LocationError(`${shown}: the URL names no database (postgres://user@host:5432/database)`);
    if (!u.hostname && !u.searchParams.get('host')) throw new LocationError(`${shown}: the URL names no host (postgres://user@host:5432/database)`);
    return { engine: 'postgres', url: value, shown };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new LocationError(`${value.replace(/\/\/[^/@]*@/, '//')}: only SQLite files and postgres:// URLs are supported`);
  }
  if (value === ':memory:') return { engine: 'sqlite', path: value, shown: value };
  const path = resolve(cwd, value);
  return { engine: 'sqlite', path, shown: path };
}
