// The one contract between the Electron main process and the renderer. The preload
// (src-main/electron/preload.ts), the UI-test stand-in (test/ui/harness.ts) and the handler layer
// (src-main/app/handlers.ts) are all built from STATION_METHODS below, so they cannot drift apart.
//
// Every call resolves to an IpcResult envelope rather than rejecting: ipcMain.handle only carries an
// error's message across, and contextBridge drops an Error's own properties, so the machine-readable
// code would be lost. The renderer unwraps the envelope into a typed StationApiError.
import type { LabelSpec } from './label/index.ts';
import type { PrinterMode } from './station/printer.ts';
import type { ProductProfile, StationChip } from './station/profile.ts';
import { CHIP_IDS } from './chips.ts';
import type { AttemptQuery, AttemptSummary, LineCounts, ProvisionResult, ShiftCounters, StationEvent, UnitQuery, UnitStatus, UnitSummary } from './station/events.ts';
import type { Failure, PortPhase, PortState, Stage } from './station/port-state.ts';

export type { AttemptQuery, AttemptSummary, Failure, LineCounts, PortPhase, PortState, ProvisionResult, ShiftCounters, Stage, StationEvent, UnitStatus, UnitSummary };

/** Error codes that cross the bridge. Station failures keep their own code in `detail`-free form. */
export type IpcErrorCode =
  | 'invalid-argument' // the renderer sent something the handler refuses (bad type, too long, unknown value)
  | 'untrusted-sender' // IPC from a frame that is not our own top-level page
  | 'unknown-method'
  | 'locked' // the profile is PIN-locked and not unlocked
  | 'wrong-pin'
  | 'locked-out' // too many wrong PINs: unlocking waits (the message says how long)
  | 'not-found'
  | 'profile-invalid' // a profile field is wrong (message names the field)
  | 'printer' // the printer refused or is not in the OS list
  | 'busy' // the port is already running a unit
  | 'not-demo' // a demo-only method while demo mode is off
  | 'station' // a station failure (message + next step are in the message)
  | 'manifest-invalid' // a batch manifest was refused (message names the entry and field)
  | 'internal';

export interface IpcError {
  code: IpcErrorCode;
  message: string;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcError };

/** Main → renderer push channel (webContents.send); the payload is an AppEvent. */
export const EVENT_CHANNEL = 'station:event';

/** ipcMain.handle channel of a method. */
export function invokeChannel(method: StationMethod): string {
  return `station:${method}`;
}

// ------------------------------------------------------------------ data shapes

export type DemoChipKind = StationChip;
/** Faults of the next run; the firmware ones make the unit's next start-up panic / print nothing (its boot check fails). */
export type DemoFault = 'corrupt-write' | 'unplug' | 'stall' | 'no-download-mode' | 'firmware-panic' | 'firmware-silent';
export const DEMO_CHIPS: readonly DemoChipKind[] = CHIP_IDS;
export const DEMO_FAULTS: readonly DemoFault[] = ['corrupt-write', 'unplug', 'stall', 'no-download-mode', 'firmware-panic', 'firmware-silent'];

/** A bench slot as the engineer configures it (Settings → Bench slots). */
export interface SlotConfig {
  /** The physical port: `usb:<location>` or `path:<device path>`. */
  key: string;
  /** The number on the tile and the label (1–99), stable across re-plugs. */
  slot: number;
  /** Optional name ("Left jig"); null: "Slot <n>". */
  name: string | null;
}

/** One tile of the operator's grid: a slot, the port now in it, and the station's model of that port. */
export interface SlotTile {
  slot: number;
  /** The engineer's name, else "Slot <n>". */
  name: string;
  key: string;
  /** The port path to act on ('' when no board was seen in this slot in this session). */
  path: string;
  plugged: boolean;
  virtual: boolean;
  /** The USB bridge ("Silicon Labs CP2102 …", "Virtual ESP32-S3"). */
  description: string;
  state: PortState;
}

export interface ProductSummary {
  id: string;
  productName: string;
  category: number;
  labelSize: { widthMm: number; heightMm: number };
  /** The system printer's name, or `zpl://host:port` for a ZPL label printer. */
  printer: { name: string | null; mode: PrinterMode };
  locked: boolean;
  /** Labels are scanned back on the unit's tile before the unit counts as done. */
  scanBack: boolean;
}

export interface AppSettings {
  /** Start provisioning as soon as a unit is plugged in. */
  autoProvision: boolean;
  /** Take identities from the imported batch pool (in import order) instead of generating them. */
  usePool: boolean;
  /** With usePool, when the pool is empty: stop (the unit waits; default) or give fresh identities. */
  whenPoolEmpty: 'stop' | 'fresh';
}

/** The production database as the renderer may see it: where (never with credentials), and whether it answers. */
export interface DatabaseInfo {
  engine: 'sqlite' | 'postgres';
  /** A file path, or postgres://host:port/database (no user name, no password). */
  location: string;
  /** 'environment': fixed by STATION_DB; 'settings': chosen in Settings; 'default': production.db in the data folder. */
  source: 'environment' | 'settings' | 'default';
  online: boolean;
  /** Why it does not answer (operator words), when it does not. */
  message: string | null;
}

/** The line's view: one station or all of them, over whole days (YYYY-MM-DD; default the last 24 hours). */
export interface LineQuery {
  station?: string;
  from?: string;
  to?: string;
}

/** The active product's identity pool (batch manifests imported with importPool). */
export interface PoolStatus {
  /** Identities imported and not yet given to a unit. */
  remaining: number;
}

/** What importPool did: identities added from `file` (its name only) and what is left now. */
export interface PoolImportReply {
  file: string;
  added: number;
  /** Entries not imported because their setup code was already issued ("units[17] (setup ID K05T)"). */
  skipped: string[];
  remaining: number;
}

export interface AppSnapshot {
  product: ProductSummary | null;
  /** Why no product is active (a broken profile file), in plain words. */
  productError: string | null;
  /** Every slot, by number: plugged or not, always shown. */
  tiles: SlotTile[];
  slots: SlotConfig[];
  /** This shift (since the engineer last reset it; survives profile changes and restarts). */
  counters: ShiftCounters;
  demo: boolean;
  settings: AppSettings;
  /** The active product's pool; null without an active product. */
  pool: PoolStatus | null;
  /** True while an engineer has unlocked the PIN-locked profile in this session. */
  unlocked: boolean;
  dataDir: string;
  /** This station's name as the database records it (a line's database holds several). */
  stationName: string;
  database: DatabaseInfo;
}

/** History search; the same query the database answers. */
export type HistoryFilter = UnitQuery;

export interface ProfileListEntry {
  file: string;
  id: string | null;
  productName: string | null;
  active: boolean;
  /** Why the file could not be loaded. */
  error: string | null;
}

/** What the editor works on: the profile without its PIN hash. */
export type ProfileDraft = Omit<ProductProfile, 'lock'>;

export interface ProfileEditorData {
  file: string;
  profile: ProfileDraft;
  locked: boolean;
  /** Paths in the profile are relative to this folder. */
  baseDir: string;
}

export type ProfileFileKind = 'partitionTable' | 'flasherArgs' | 'customCsv' | 'keysFile';
export const PROFILE_FILE_KINDS: readonly ProfileFileKind[] = ['partitionTable', 'flasherArgs', 'customCsv', 'keysFile'];

export interface PrinterChoice {
  name: string;
  displayName: string;
  isDefault: boolean;
}

export interface LabelPreview {
  svg: string;
  widthMm: number;
  heightMm: number;
}

export type LabelOutcome = { status: 'printed'; unitId: number; printer: string } | { status: 'saved'; unitId: number; path: string };

/** A provision / confirm / retry call's answer (the station's outcome, as plain data). */
export type ProvisionReply =
  | { kind: 'done'; result: ProvisionResult; label: LabelOutcome | { status: 'failed'; message: string } }
  | { kind: 'needs-confirmation'; port: string; unitId: number; mac: string; setupId: string }
  | ({ kind: 'failed'; port: string; unitId?: number } & Failure);

/** What a label scan on a tile decided. */
export interface ScanReply {
  ok: boolean;
  message: string;
}

/** Events pushed to the renderer: the station's own plus the app's snapshot updates. */
export type AppEvent =
  | StationEvent
  | { type: 'snapshot'; snapshot: AppSnapshot }
  /** importPool checking a manifest's verifiers: `done` of `total`. */
  | { type: 'pool-import'; done: number; total: number };

// ------------------------------------------------------------------ the method table

/** [arguments, result] of every method, by name. */
export interface StationMethods {
  getSnapshot: [[], AppSnapshot];
  provisionNext: [[port: string], ProvisionReply];
  confirmReflash: [[port: string], ProvisionReply];
  declineReflash: [[port: string], void];
  retry: [[port: string], ProvisionReply];
  printLabel: [[unitId: number], LabelOutcome];
  getLabel: [[unitId: number], ProvisionResult];
  /** Starts every plugged slot that is ready (new board); returns the ports started. */
  provisionAllReady: [[], string[]];
  /** A label's QR scanned on the tile of `port` (scan-back). */
  scanLabel: [[port: string, text: string], ScanReply];
  listUnits: [[filter: HistoryFilter], UnitSummary[]];
  listAttempts: [[filter: AttemptQuery], AttemptSummary[]];
  /** Stations that have records in the database (a line's registry holds several). */
  listStations: [[], string[]];
  /** Per station: units and failed runs, and per hour (the line's view), for the active product. */
  lineCounts: [[query: LineQuery], LineCounts];
  /** Engineer: use another production database (file path or postgres:// URL), checked before the switch. */
  setDatabase: [[location: string], DatabaseInfo];
  /** Engineer: renumber / rename slots. */
  saveSlots: [[slots: SlotConfig[]], SlotConfig[]];
  forgetSlot: [[key: string], void];
  /** Engineer: start a new shift (counters from zero). */
  resetShift: [[], ShiftCounters];
  exportManifest: [[], { path: string } | null];
  /** Opens a batch manifest (native dialog) and adds its identities to the active product's pool; null when cancelled. */
  importPool: [[], PoolImportReply | null];
  setSettings: [[settings: Partial<AppSettings>], AppSettings];
  listProfiles: [[], ProfileListEntry[]];
  getProfile: [[file: string], ProfileEditorData];
  saveProfile: [[file: string, profile: ProfileDraft], ProfileListEntry];
  activateProfile: [[file: string], AppSnapshot];
  unlock: [[pin: string], boolean];
  lock: [[], void];
  setPin: [[file: string, pin: string | null], void];
  pickFile: [[kind: ProfileFileKind], string | null];
  previewLabel: [[label: LabelSpec, productName: string], LabelPreview];
  listPrinters: [[], PrinterChoice[]];
  enableDemo: [[], AppSnapshot];
  demoAddChip: [[chip: DemoChipKind], string];
  demoUnplug: [[port: string], void];
  demoReplug: [[port: string], void];
  demoInjectFault: [[port: string, fault: DemoFault], void];
}

export type StationMethod = keyof StationMethods;

/** Every method, in one list: the preload and the test harness build window.station from it. */
export const STATION_METHODS = [
  'getSnapshot',
  'provisionNext',
  'confirmReflash',
  'declineReflash',
  'retry',
  'provisionAllReady',
  'scanLabel',
  'printLabel',
  'getLabel',
  'listUnits',
  'listAttempts',
  'listStations',
  'lineCounts',
  'setDatabase',
  'saveSlots',
  'forgetSlot',
  'resetShift',
  'exportManifest',
  'importPool',
  'setSettings',
  'listProfiles',
  'getProfile',
  'saveProfile',
  'activateProfile',
  'unlock',
  'lock',
  'setPin',
  'pickFile',
  'previewLabel',
  'listPrinters',
  'enableDemo',
  'demoAddChip',
  'demoUnplug',
  'demoReplug',
  'demoInjectFault',
] as const satisfies readonly StationMethod[];

// A compile-time check that the list names every method exactly once.
type Missing = Exclude<StationMethod, (typeof STATION_METHODS)[number]>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;

/** The raw bridge object the preload exposes as `window.station`. */
export type StationBridge = {
  [M in StationMethod]: (...args: StationMethods[M][0]) => Promise<IpcResult<StationMethods[M][1]>>;
} & {
  /** Subscribes to main → renderer events; returns the unsubscribe function. */
  onEvent(callback: (event: AppEvent) => void): () => void;
};

/** The handler side: plain async functions, no envelope (the IPC layer adds it). */
export type StationHandlers = {
  [M in StationMethod]: (...args: StationMethods[M][0]) => Promise<StationMethods[M][1]>;
};

/** Key under which the bridge is exposed on `window`. */
export const BRIDGE_KEY = 'station';

/**
 * Builds the bridge object from the method table. Used by the real preload; the test harness
 * builds the same shape in the page from the same STATION_METHODS list.
 */
export function buildStationBridge(
  invoke: (method: StationMethod, args: unknown[]) => Promise<unknown>,
  subscribe: (callback: (event: AppEvent) => void) => () => void,
): StationBridge {
  const api: Record<string, unknown> = {};
  for (const method of STATION_METHODS) api[method] = (...args: unknown[]) => invoke(method, args);
  api.onEvent = (callback: (event: AppEvent) => void) => {
    if (typeof callback !== 'function') throw new TypeError('onEvent needs a function');
    return subscribe(callback);
  };
  return Object.freeze(api) as StationBridge;
}

/**
 * `data:` URL of an SVG for `<img src>`: the CSP allows data: images, and an image (unlike {@html})
 * cannot run script or pull in styles.
 */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}
