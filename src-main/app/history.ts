// The History screen's queries, always for the active product: units, attempts (one station or
// the whole line), the stations on the registry, the line's per-station counts, and the manifest
// export. Dates from the UI are whole days (YYYY-MM-DD, UTC): a "to" day includes all of that day.
import type { AttemptQuery, AttemptSummary, HistoryFilter, LineCounts, LineQuery } from '../../shared/ipc.ts';
import type { UnitSummary } from '../../shared/station/events.ts';
import type { Registry } from '../registry/index.ts';
import type { Station } from '../station/station.ts';
import type { Platform } from './app-options.ts';

export interface HistoryHost {
  readonly platform: Platform;
  /** The active product's station; throws the app's "no product" error when there is none. */
  requireStation(): Station;
  /** The registry in use now (it can change in Settings). */
  db(): Registry;
}

const DAY_MS = 86_400_000;
const endOfDay = (day: string | undefined) => (day ? `${day}T23:59:59.999Z` : undefined);

export class AppHistory {
  constructor(private readonly host: HistoryHost) {}

  private product(): string {
    return this.host.requireStation().profile.profile.id;
  }

  listUnits(filter: HistoryFilter): Promise<UnitSummary[]> {
    return this.host.requireStation().listUnits({ ...filter, to: endOfDay(filter.to), limit: filter.limit ?? 500 });
  }

  listAttempts(filter: AttemptQuery): Promise<AttemptSummary[]> {
    return this.host.db().attempts.list({ ...filter, product: this.product(), to: endOfDay(filter.to), limit: filter.limit ?? 500 });
  }

  /** Station names in the registry (the History's station filter). */
  listStations(): Promise<string[]> {
    return this.host.db().stations();
  }

  /** The line's view: per station, units and failed runs (and per hour) over a period (default: the last 24 h). */
  lineCounts(query: LineQuery): Promise<LineCounts> {
    const product = this.product();
    const to = query.to ? new Date(Date.parse(`${query.to}T00:00:00.000Z`) + DAY_MS).toISOString() : new Date().toISOString();
    const from = query.from ? `${query.from}T00:00:00.000Z` : new Date(Date.parse(to) - DAY_MS).toISOString();
    return this.host.db().attempts.lineCounts({ from, to, product, station: query.station });
  }

  /** The active product's manifest (CSV) where the engineer picks; null when the dialog is cancelled. */
  async exportManifest(): Promise<{ path: string } | null> {
    const station = this.host.requireStation();
    const day = new Date().toISOString().slice(0, 10);
    const path = await this.host.platform.pickManifestPath(`${station.profile.profile.id}-manifest-${day}.csv`);
    if (!path) return null;
    await station.exportManifest(path);
    return { path };
  }
}
