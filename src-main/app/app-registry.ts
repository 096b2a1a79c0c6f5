// The app's production registry: where it is (STATION_DB, else the engineer's choice in Settings,
// else production.db in the data folder), switching it between units, and what the snapshot shows
// of it — the shift counters, the pool left, whether a line's server answers. Reads are async (a
// server), so their last values are kept here and the snapshot stays a plain synchronous view.
// The location as the engineer typed it (a URL may hold a password) stays in settings.json (0600);
// the renderer only ever sees it without credentials.
import { join } from 'node:path';
import type { DatabaseInfo, ShiftCounters } from '../../shared/ipc.ts';
import { LocationError, openRegistry, parseLocation, type Registry, type RegistryLocation } from '../registry/index.ts';
import { AppError } from './errors.ts';
import type { SettingsValues } from './settings.ts';

/** How long a snapshot waits for the registry's counters before showing the last ones. */
const REFRESH_WAIT_MS = 3_000;

export interface AppRegistryOptions {
  dataDir: string;
  stationName: string;
  /** Fixed from outside (STATION_DB): Settings cannot change it. */
  fixed?: string;
  retryForMs?: number;
  settings: SettingsValues;
  /** Something the snapshot shows changed (reachability). */
  changed: () => void;
}

export class AppRegistry {
  private current: Registry | undefined;
  private off: () => void = () => undefined;
  counters: ShiftCounters = { units: 0, failures: 0, unitsPerHour: 0, since: new Date().toISOString() };
  poolRemaining: number | null = null;
  private online = true;
  private message: string | null = null;

  constructor(private readonly options: AppRegistryOptions) {}

  get db(): Registry {
    if (!this.current) throw new Error('internal: the registry is not open yet');
    return this.current;
  }

  /** Opens the configured registry (a file opens now; a server on its first piece of work). */
  open(): Registry {
    const { fixed, settings, dataDir } = this.options;
    this.use(this.openAt(parseLocation(fixed ?? settings.database ?? join(dataDir, 'production.db'), dataDir)));
    return this.db;
  }

  private openAt(location: RegistryLocation): Registry {
    return openRegistry(location, { station: this.options.stationName, retryForMs: this.options.retryForMs });
  }

  private use(db: Registry): void {
    this.off();
    this.current = db;
    this.online = true;
    this.message = null;
    this.off = db.onStatus((s) => {
      this.online = s.online;
      this.message = s.online ? null : s.message;
      this.options.changed();
    });
  }

  /**
   * Reads the counters and the pool left; an unreachable registry keeps the last values and says
   * so. A server that does not answer within REFRESH_WAIT_MS does not hold up the window (the app's
   * start, a snapshot): the read goes on in the background and the status says the database is gone.
   */
  async refresh(product: string | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const reads = Promise.all([
      this.db.attempts.shiftCounters(this.options.stationName, this.options.settings.shiftStart),
      product ? this.db.poolRemaining(product) : Promise.resolve(null),
    ]);
    reads.catch(() => undefined); // a late failure after the wait below is reported by the status
    try {
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${this.db.shown} did not answer`)), REFRESH_WAIT_MS)));
      const [counters, poolRemaining] = await Promise.race([reads, late]);
      this.counters = counters;
      this.poolRemaining = poolRemaining;
    } catch (err) {
      this.online = false;
      this.message ??= err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
  }

  info(): DatabaseInfo {
    return {
      engine: this.db.kind,
      location: this.db.shown,
      source: this.options.fixed !== undefined ? 'environment' : this.options.settings.database ? 'settings' : 'default',
      online: this.online,
      message: this.message,
    };
  }

  /**
   * Opens `location` and waits until it answers at this code's schema; only then is it the
   * station's registry (the old one is closed). Returns the new registry; throws an AppError
   * naming the reason (never a credential) and keeps the old one otherwise.
   */
  async change(location: string): Promise<Registry> {
    if (this.options.fixed !== undefined) throw new AppError('invalid-argument', 'The database is fixed by the STATION_DB environment variable: change it there.');
    let parsed: RegistryLocation;
    try {
      parsed = parseLocation(location, this.options.dataDir);
    } catch (err) {
      if (err instanceof LocationError) throw new AppError('invalid-argument', `database: ${err.message}`);
      throw err;
    }
    let next: Registry;
    try {
      next = this.openAt(parsed);
    } catch (err) {
      throw new AppError('invalid-argument', `database: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      await next.ready();
    } catch (err) {
      await next.close();
      throw new AppError('invalid-argument', `database: ${err instanceof Error ? err.message : String(err)}`);
    }
    const old = this.current;
    this.use(next);
    this.options.settings.database = parsed.engine === 'sqlite' ? parsed.path : parsed.url;
    await old?.close();
    return next;
  }

  async close(): Promise<void> {
    this.off();
    await this.current?.close();
  }
}
