// What the app core is given from outside: the host's abilities (Platform: dialogs, printers,
// print windows — Electron's or the UI test's) and the options of one station app (data folder,
// demo, ports, the production database). Its own file so the host and the label delivery can
// name these types without importing the app core itself.
import type { PrinterChoice, ProfileFileKind } from '../../shared/ipc.ts';
import type { ListingBinding, PortOpener } from '../flash/index.ts';
import type { LabelJob } from './label-page.ts';

/** What only the host (Electron, or the UI test) can do. */
export interface Platform {
  /** Native open dialog for a profile input file; null when cancelled. */
  pickFile(kind: ProfileFileKind): Promise<string | null>;
  /** Native save dialog for the manifest; null when cancelled. */
  pickManifestPath(defaultName: string): Promise<string | null>;
  /** Native open dialog for a batch manifest (homekit_manifest_*.json); null when cancelled. */
  pickPoolManifest(): Promise<string | null>;
  listPrinters(): Promise<PrinterChoice[]>;
  /** Silent print of one label; rejects with the printer's reason. */
  printLabel(job: LabelJob, printerName: string): Promise<void>;
  /** The label as a PDF at `path` (Chromium's print pipeline, same page as printing). */
  saveLabelPdf(job: LabelJob, path: string): Promise<void>;
}

export interface AppCoreOptions {
  dataDir: string;
  platform: Platform;
  /** Offer virtual chips (--demo). */
  demo?: boolean;
  stationName?: string;
  operator?: string;
  /** Binding used to list real serial ports (tests pass one whose list changes). */
  portBinding?: ListingBinding;
  /** Device path → physical USB location (tests); default: Linux by-path links. */
  portLocations?: () => ReadonlyMap<string, string>;
  /** Opens real ports for flashing (tests reach virtual chips at /dev paths through it). */
  openPort?: PortOpener;
  /** Poll real ports for plug / unplug (the app: yes; tests: as they need). */
  watchPorts?: boolean;
  /** Poll interval of the port watcher (default 1000 ms). */
  pollMs?: number;
  /** Virtual chips at line speed (realistic demo) or instant (tests). Default true. */
  demoPacing?: boolean;
  /** Clock of the PIN lock-out (tests); default Date.now. */
  clock?: () => number;
  /**
   * The production registry, fixed from outside (the STATION_DB environment variable): a file path
   * or a postgres:// URL. Without it: the one chosen in Settings, else production.db in the data folder.
   */
  database?: string;
  /** A server registry: how long work waits for an unreachable server (default 2 minutes). */
  databaseRetryMs?: number;
}
