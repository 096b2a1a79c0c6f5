// The station app without Electron: data folder, product profiles, the one Station service (its
// product switches with the active profile; its port models stay), the bench (real ports, demo
// chips, slots), settings, the shift, label delivery. Electron's main process and the UI test both
// run this same object behind the same handlers (handlers.ts); what only Electron can do (dialogs,
// printers, print windows) comes in through `Platform` (app-options.ts). The runs per port live in
// runs.ts, the History's queries in history.ts; this object wires them to the rest.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LabelSpec } from '../../shared/label/index.ts';
import type {
  AppEvent, AppSettings, AppSnapshot, DatabaseInfo, DemoChipKind, DemoFault, LabelOutcome, LabelPreview,
  ProfileDraft, ProfileEditorData, ProfileFileKind, ProfileListEntry, PoolImportReply, ProvisionReply,
  ScanReply, ShiftCounters, SlotConfig,
} from '../../shared/ipc.ts';
import type { ProvisionResult, StationEvent } from '../../shared/station/events.ts';
import { readyPortState, type BoardInfo } from '../../shared/station/port-state.ts';
import { ensureDirSync, removeStaleTempFiles } from '../fs/index.ts';
import type { Registry } from '../registry/index.ts';
import { AppRegistry } from './app-registry.ts';
import { createDemoProfile, type LoadedProfile } from '../station/profile-file.ts';
import { Station } from '../station/station.ts';
import { Bench } from './bench.ts';
import { deliverLabel } from './deliver-label.ts';
import { AppHistory } from './history.ts';
import { AppError } from './errors.ts';
import { importPoolManifest } from './pool.ts';
import { previewLabel, ProfilesFolder } from './profiles.ts';
import { PinGuard } from './pin-guard.ts';
import { Products } from './products.ts';
import { ProvisionRuns } from './runs.ts';
import { SettingsFile, type SettingsValues } from './settings.ts';
import { SlotError } from './slots.ts';
import type { AppCoreOptions } from './app-options.ts';

export type { AppCoreOptions, Platform } from './app-options.ts';

export class AppCore {
  readonly dataDir: string;
  readonly labelsDir: string;
  readonly profiles: ProfilesFolder;
  readonly bench: Bench;
  private readonly registry: AppRegistry;
  private station: Station | null = null;
  private readonly products: Products;
  private readonly settingsFile: SettingsFile;
  private readonly settings: SettingsValues;
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private readonly runs: ProvisionRuns;
  /** The History screen's queries (history.ts). */
  readonly history: AppHistory;
  private importing = false;

  private constructor(readonly options: AppCoreOptions) {
    this.dataDir = options.dataDir;
    this.labelsDir = join(options.dataDir, 'labels');
    this.profiles = new ProfilesFolder(join(options.dataDir, 'profiles'));
    this.settingsFile = new SettingsFile(options.dataDir);
    this.settings = this.settingsFile.values;
    this.products = new Products(this.profiles, this.settingsFile, new PinGuard(join(options.dataDir, 'pin-guard.json'), options.clock), {
      busy: () => (this.runs.busy ? 'A unit is being provisioned' : null),
      activated: (loaded) => this.activated(loaded),
      changed: () => this.emitSnapshot(),
    });
    ensureDirSync(this.profiles.dir, 0o700);
    this.registry = new AppRegistry({
      dataDir: options.dataDir, stationName: this.stationName, fixed: options.database, retryForMs: options.databaseRetryMs, settings: this.settings,
      changed: () => this.emitSnapshot(),
    });
    this.bench = new Bench({
      dataDir: options.dataDir,
      portBinding: options.portBinding,
      portLocations: options.portLocations,
      demo: options.demo ?? false,
      demoPacing: options.demoPacing ?? true,
      onChange: (change, path, board) => this.portChanged(change, path, board),
    });
    this.history = new AppHistory({ platform: options.platform, requireStation: () => this.requireStation(), db: () => this.db });
    this.runs = new ProvisionRuns({
      bench: this.bench,
      requireStation: () => this.requireStation(),
      activeStation: () => (this.products.loaded ? this.station : null),
      autoProvision: () => this.settings.autoProvision,
      deliver: (result) => this.deliver(result),
      settled: async () => {
        await this.refresh();
        this.emitSnapshot();
      },
    });
  }

  /** Opens the data folder (first run: demo profile), loads the active profile, lists ports. */
  static async open(options: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(options);
    await core.init();
    return core;
  }

  private async init(): Promise<void> {
    // Temp files of a killed app (labels hold setup codes); the Station cleans its label folder itself.
    for (const dir of [this.dataDir, this.profiles.dir, join(this.labelsDir, 'printed')]) removeStaleTempFiles(dir);
    const hasProfiles = readdirSync(this.profiles.dir).some((f) => f.endsWith('.json'));
    // In demo mode the first profile checks the virtual boards' boot log and numbers them.
    if (!hasProfiles) await createDemoProfile(this.profiles.dir, this.bench.demo ? 'app' : 'plain');
    await this.settingsFile.load();
    this.registry.open();
    await this.products.load(this.settings.activeProfile);
    await this.refresh();
    if (this.bench.demo) this.bench.enableDemo();
    await this.bench.start(this.options.watchPorts ?? false, this.options.pollMs);
  }

  async close(): Promise<void> {
    await this.bench.stop();
    await this.station?.close();
    await this.registry.close();
  }

  // ---------------------------------------------------------------- the production database

  private get db(): Registry {
    return this.registry.db;
  }

  /** Reads the counters and the pool left from the registry (the snapshot shows the last values). */
  refresh(): Promise<void> {
    return this.registry.refresh(this.products.loaded?.profile.id);
  }

  /**
   * Engineer: production records go to another registry (a file path or a postgres:// URL). It is
   * opened and checked first (reachable, migrated); only then does the station switch, between
   * units. A URL's password is kept in settings.json (0600) and never sent back.
   */
  async setDatabase(location: string): Promise<DatabaseInfo> {
    this.requireEngineer('change the production database');
    if (this.runs.busy || this.importing) throw new AppError('busy', 'A unit is being provisioned: change the database when the station is idle.');
    const db = await this.registry.change(location);
    this.station?.useRegistry(db);
    await this.settingsFile.save();
    await this.refresh();
    this.emitSnapshot();
    return this.registry.info();
  }

  get stationName(): string {
    return this.options.stationName ?? 'station';
  }

  // ---------------------------------------------------------------- events

  on(listener: (e: AppEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A closed window must not break the station.
      }
    }
  }

  private emitSnapshot(): void {
    this.emit({ type: 'snapshot', snapshot: this.snapshot() });
  }

  private onStationEvent = (e: StationEvent): void => this.emit(e);

  private portChanged(change: 'attached' | 'detached', path: string, board: BoardInfo | null): void {
    this.station?.portChanged(path, change, board);
    this.emitSnapshot();
    if (change === 'attached') this.runs.plugged(path);
  }

  // ---------------------------------------------------------------- settings & shift

  async setSettings(patch: Partial<AppSettings>): Promise<AppSettings> {
    const change = this.settingsFile.changes(patch);
    // Every engineer check passes before anything changes.
    if (change.usePool !== undefined) this.requireEngineer('switch between pool and fresh identities');
    if (change.autoProvision !== undefined) this.requireEngineer('turn auto-provision on or off');
    if (change.whenPoolEmpty !== undefined) this.requireEngineer('choose what an empty pool does');
    Object.assign(this.settings, change);
    // Read at each reservation: the next unit already follows the new choice.
    if (this.station) Object.assign(this.station.options, { usePool: this.settings.usePool, whenPoolEmpty: this.settings.whenPoolEmpty });
    await this.settingsFile.save();
    this.emitSnapshot();
    return this.settingsFile.public;
  }

  /** This shift's counters, from the attempt records (they survive profile changes and restarts), as last read. */
  counters(): ShiftCounters {
    return this.registry.counters;
  }

  /** Engineer: a new shift starts now. */
  async resetShift(): Promise<ShiftCounters> {
    this.requireEngineer('start a new shift');
    this.settings.shiftStart = new Date().toISOString();
    await this.settingsFile.save();
    await this.refresh();
    this.emitSnapshot();
    return this.counters();
  }

  /** Engineer decisions are refused while the active product is PIN-locked. */
  private requireEngineer(action: string): void {
    this.products.requireEngineer(action);
  }

  // ---------------------------------------------------------------- slots

  async saveSlots(slots: SlotConfig[]): Promise<SlotConfig[]> {
    this.requireEngineer('change the bench slots');
    await this.bench.slots.update(slots).catch(slotError);
    this.emitSnapshot();
    return this.bench.slots.list();
  }

  async forgetSlot(key: string): Promise<void> {
    this.requireEngineer('change the bench slots');
    if (this.bench.isSlotPlugged(key)) {
      throw new AppError('busy', 'A board is plugged into that slot: unplug it before forgetting the slot.');
    }
    await this.bench.slots.forget(key).catch(slotError);
    this.emitSnapshot();
  }

  // ---------------------------------------------------------------- products (products.ts)

  /** The Station follows the active product; its ports keep their models across switches. */
  private activated(loaded: LoadedProfile | null): void {
    if (!loaded) return;
    if (this.station) {
      this.station.setProfile(loaded);
      void this.refresh().then(() => this.emitSnapshot());
      return;
    }
    this.station = new Station({
      db: this.db,
      profile: loaded,
      labelDir: this.labelsDir,
      stationName: this.stationName,
      operator: this.options.operator ?? 'operator',
      virtualRegistry: this.bench.registry,
      openPort: this.options.openPort,
      slotOf: (port) => this.bench.slotOfPath(port),
      labelCompletes: 'pending',
      usePool: this.settings.usePool,
      whenPoolEmpty: this.settings.whenPoolEmpty,
    });
    this.station.on(this.onStationEvent);
    for (const { path, board } of this.bench.pluggedPorts()) this.station.portChanged(path, 'attached', board);
    // Units this station left reserved or flashing (killed, power cut) are marked interrupted: they
    // keep their identity and complete with it when re-plugged. Other stations' units are not touched.
    void this.station.resumeIncomplete().then((units) => units.length > 0 && this.emitSnapshot(), () => undefined);
  }

  async activateProfile(file: string): Promise<AppSnapshot> {
    await this.products.activate(file);
    const snap = this.snapshot();
    this.emit({ type: 'snapshot', snapshot: snap });
    return snap;
  }

  listProfiles(): Promise<ProfileListEntry[]> {
    return this.products.list();
  }

  getProfile(file: string): Promise<ProfileEditorData> {
    return this.profiles.forEditor(file);
  }

  saveProfile(file: string, draft: ProfileDraft): Promise<ProfileListEntry> {
    return this.products.save(file, draft);
  }

  setPin(file: string, pin: string | null): Promise<void> {
    return this.products.setPin(file, pin);
  }

  unlock(pin: string): Promise<boolean> {
    return this.products.unlock(pin);
  }

  /** Main's file dialog for a profile input file; what the engineer picks may then be referenced. */
  async pickFile(kind: ProfileFileKind): Promise<string | null> {
    const path = await this.options.platform.pickFile(kind);
    if (path) this.products.picked.remember(path);
    return path;
  }

  lock(): void {
    this.products.lock();
  }

  previewLabel(spec: LabelSpec, productName: string): LabelPreview {
    return previewLabel(spec, productName);
  }

  /** Adds a batch manifest's identities to the active product's pool (see pool.ts). */
  async importPool(): Promise<PoolImportReply | null> {
    const station = this.requireStation();
    this.requireEngineer('import identities');
    if (this.importing) throw new AppError('busy', 'A manifest is being imported already.');
    // Between shifts, not mid-unit: the import's checks and its database write share this thread.
    if (this.runs.busy) throw new AppError('busy', 'A unit is being provisioned: import the manifest when the station is idle.');
    const path = await this.options.platform.pickPoolManifest();
    if (!path) return null;
    this.importing = true;
    try {
      const reply = await importPoolManifest(this.db, station.profile.profile, path, (done, total) => this.emit({ type: 'pool-import', done, total }));
      await this.refresh();
      this.emitSnapshot();
      return reply;
    } finally {
      this.importing = false;
    }
  }

  // ---------------------------------------------------------------- snapshot

  snapshot(): AppSnapshot {
    return {
      product: this.products.summary(),
      productError: this.products.error,
      tiles: this.bench.tiles((path) => (this.station ? this.station.portState(path) : readyPortState(null))),
      slots: this.bench.slots.list(),
      counters: this.counters(),
      demo: this.bench.demo,
      settings: this.settingsFile.public,
      pool: this.products.loaded && this.registry.poolRemaining !== null ? { remaining: this.registry.poolRemaining } : null,
      stationName: this.stationName,
      database: this.registry.info(),
      unlocked: this.products.unlocked,
      dataDir: this.dataDir,
    };
  }

  // ---------------------------------------------------------------- provisioning

  private requireStation(): Station {
    const why = this.products.error;
    if (!this.station || !this.products.loaded) throw new AppError('profile-invalid', `No product is active${why ? `: ${why}` : ''}. Fix or choose a profile in Settings.`);
    return this.station;
  }

  provisionNext(port: string): Promise<ProvisionReply> {
    return this.runs.provisionNext(port);
  }

  confirmReflash(port: string): Promise<ProvisionReply> {
    return this.runs.confirmReflash(port);
  }

  retry(port: string): Promise<ProvisionReply> {
    return this.runs.retry(port);
  }

  declineReflash(port: string): void {
    this.requireStation().declineReflash(port);
    this.emitSnapshot();
  }

  /** "Provision all ready": every plugged slot holding a new board starts now. */
  provisionAllReady(): string[] {
    return this.runs.provisionAllReady();
  }

  scanLabel(port: string, text: string): Promise<ScanReply> {
    return this.requireStation().scanLabel(port, text);
  }

  // ---------------------------------------------------------------- labels

  private deliver(result: ProvisionResult): Promise<LabelOutcome> {
    return deliverLabel(this.requireStation(), this.options.platform, this.labelsDir, result.unit.id, result.labelSvg, result.labelPdfPath);
  }

  async printLabel(unitId: number): Promise<LabelOutcome> {
    return this.deliver(await this.requireStation().labelFor(unitId));
  }

  getLabel(unitId: number): Promise<ProvisionResult> {
    return this.requireStation().labelFor(unitId);
  }

  // ---------------------------------------------------------------- demo (bench.ts)

  async enableDemo(): Promise<AppSnapshot> {
    this.bench.enableDemo();
    return this.snapshot();
  }

  addDemoChip(kind: DemoChipKind): string {
    return this.bench.addDemoChip(kind);
  }

  demoUnplug(port: string): void {
    this.bench.demoUnplug(port);
  }

  demoReplug(port: string): void {
    this.bench.demoReplug(port);
  }

  demoInjectFault(port: string, fault: DemoFault): void {
    this.bench.demoInjectFault(port, fault);
  }
}

function slotError(err: unknown): never {
  if (err instanceof SlotError) throw new AppError('invalid-argument', err.message);
  throw err;
}

