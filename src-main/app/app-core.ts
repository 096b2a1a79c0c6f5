// The station app without Electron: data folder, product profiles, the Station service for the
// active profile, port list (real + demo virtual chips), settings, label delivery. Electron's main
// process and the UI test both run this same object behind the same handlers (handlers.ts); what
// only Electron can do (dialogs, printers, print windows) comes in through `Platform`.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import { labelSize, layoutLabel, renderLabelSvg, validateLabelSpec, type LabelSpec } from '../../shared/label/index.ts';
import type {
  AppEvent,
  AppSettings,
  AppSnapshot,
  DemoChipKind,
  DemoFault,
  HistoryFilter,
  LabelOutcome,
  LabelPreview,
  PortCard,
  PrinterChoice,
  ProductSummary,
  ProfileDraft,
  ProfileEditorData,
  ProfileFileKind,
  ProfileListEntry,
  PoolImportReply,
  ProvisionReply,
} from '../../shared/ipc.ts';
import { checkPoolVerifier, ManifestError, readPoolManifest, type PoolManifest } from '../../shared/station/manifest.ts';
import { addManifestToPool } from '../station/pool-import.ts';
import { ProfileError, validateProfile, type ProductProfile } from '../../shared/station/profile.ts';
import type { ProvisionResult, StationEvent, UnitSummary } from '../../shared/station/events.ts';
import { describeFsError, ensureDirSync, readInputFile, removeStaleTempFiles, writeFileAtomic } from '../fs/index.ts';
import { listPorts, PortWatcher, type ListingBinding, type PortDescription } from '../flash/index.ts';
import { VirtualChipRegistry, type VirtualChip } from '../virtual-chip/index.ts';
import { ProductionDb } from '../station/db.ts';
import { createDemoProfile, hashPin, loadProfile, saveProfile, type LoadedProfile } from '../station/profile-file.ts';
import { Station, type ProvisionOutcome } from '../station/station.ts';
import { AppError } from './errors.ts';
import { checkPrinterName, type LabelJob } from './label-page.ts';
import { PinGuard } from './pin-guard.ts';
import { checkProfileReferences, PickedFiles } from './profile-refs.ts';

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
  /** Binding used to list real serial ports (tests pass one with no ports). */
  portBinding?: ListingBinding;
  /** Poll real ports for plug / unplug (the app: yes; tests: no). */
  watchPorts?: boolean;
  /** Virtual chips at line speed (realistic demo) or instant (tests). Default true. */
  demoPacing?: boolean;
  /** Clock of the PIN lock-out (tests); default Date.now. */
  clock?: () => number;
}

interface DemoEntry {
  chip: VirtualChip;
}

const SETTINGS_FILE = 'settings.json';
/** Verifiers checked between two turns of the event loop while importing a manifest (~50 ms). */
const POOL_CHECK_SLICE = 64;
const SAMPLE_SETUP_CODE = '518-08-582';
const SAMPLE_SETUP_ID = 'DEMO';

interface SettingsFile extends AppSettings {
  activeProfile: string;
}

export class AppCore {
  readonly dataDir: string;
  readonly profilesDir: string;
  readonly labelsDir: string;
  readonly registry = new VirtualChipRegistry();
  private readonly db: ProductionDb;
  private station: Station | null = null;
  private stationOff: (() => void) | null = null;
  private loaded: LoadedProfile | null = null;
  private productError: string | null = null;
  private settings: SettingsFile = { activeProfile: 'demo-profile.json', autoProvision: false, usePool: false };
  private demo: boolean;
  private readonly demoChips = new Map<string, DemoEntry>();
  private demoCounter = 0;
  private realPorts: PortDescription[] = [];
  private readonly seen = new Map<string, { chip: string | null; mac: string | null }>();
  private readonly listeners = new Set<(e: AppEvent) => void>();
  private watcher: PortWatcher | null = null;
  private unlockedFile: string | null = null;
  private readonly running = new Set<string>();
  private importing = false;
  private readonly pinGuard: PinGuard;
  /** Files the engineer picked in main's dialog: the only paths outside the profiles folder a saved profile may name. */
  private readonly picked = new PickedFiles();

  private constructor(readonly options: AppCoreOptions) {
    this.dataDir = options.dataDir;
    this.profilesDir = join(options.dataDir, 'profiles');
    this.labelsDir = join(options.dataDir, 'labels');
    this.demo = options.demo ?? false;
    ensureDirSync(this.profilesDir, 0o700);
    this.db = ProductionDb.open(join(options.dataDir, 'production.db'));
    this.pinGuard = new PinGuard(join(options.dataDir, 'pin-guard.json'), options.clock);
  }

  /** Opens the data folder (first run: demo profile), loads the active profile, lists ports. */
  static async open(options: AppCoreOptions): Promise<AppCore> {
    const core = new AppCore(options);
    await core.init();
    return core;
  }

  private async init(): Promise<void> {
    // Temp files of a killed app (labels hold setup codes); the Station cleans its label folder itself.
    for (const dir of [this.dataDir, this.profilesDir, join(this.labelsDir, 'printed')]) removeStaleTempFiles(dir);
    const hasProfiles = readdirSync(this.profilesDir).some((f) => f.endsWith('.json'));
    if (!hasProfiles) await createDemoProfile(this.profilesDir);
    await this.loadSettings();
    await this.activate(this.settings.activeProfile);
    if (this.demo && this.demoChips.size === 0) this.addDemoChip('esp32');
    await this.refreshRealPorts();
    if (this.options.watchPorts) await this.startWatcher();
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    this.stationOff?.();
    for (const path of [...this.demoChips.keys()]) this.registry.remove(path);
    this.db.close();
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

  private onStationEvent = (e: StationEvent): void => {
    if (e.type === 'done') this.seen.set(e.port, { chip: e.unit.chip, mac: e.unit.mac });
    if (e.type === 'needs-confirmation') this.seen.set(e.port, { chip: this.seen.get(e.port)?.chip ?? null, mac: e.mac });
    this.emit(e);
    if (e.type === 'done' || e.type === 'failure' || e.type === 'needs-confirmation') this.emitSnapshot();
  };

  // ---------------------------------------------------------------- settings & profiles

  private async loadSettings(): Promise<void> {
    const path = join(this.dataDir, SETTINGS_FILE);
    if (!existsSync(path)) return;
    try {
      const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<SettingsFile>;
      if (typeof raw.activeProfile === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(raw.activeProfile)) this.settings.activeProfile = raw.activeProfile;
      if (typeof raw.autoProvision === 'boolean') this.settings.autoProvision = raw.autoProvision;
      if (typeof raw.usePool === 'boolean') this.settings.usePool = raw.usePool;
    } catch {
      // A damaged settings file falls back to defaults; the profile itself is still validated.
    }
  }

  private async saveSettings(): Promise<void> {
    await writeFileAtomic(join(this.dataDir, SETTINGS_FILE), `${JSON.stringify(this.settings, null, 2)}\n`, 0o600);
  }

  async setSettings(patch: Partial<AppSettings>): Promise<AppSettings> {
    const usePool = patch.usePool !== undefined && patch.usePool !== this.settings.usePool ? patch.usePool : undefined;
    if (usePool !== undefined) this.requireEngineer('switch between pool and fresh identities'); // before anything changes
    if (patch.autoProvision !== undefined && patch.autoProvision !== this.settings.autoProvision) this.requireEngineer('turn auto-provision on or off');
    if (patch.autoProvision !== undefined) this.settings.autoProvision = patch.autoProvision;
    if (usePool !== undefined) {
      this.settings.usePool = usePool;
      // Read at each reservation: the next unit already follows the new choice.
      if (this.station) this.station.options.usePool = usePool;
    }
    await this.saveSettings();
    this.emitSnapshot();
    return this.publicSettings();
  }

  /** Identity decisions are the engineer's: refused while the active product is PIN-locked. */
  private requireEngineer(action: string): void {
    if (this.loaded?.profile.lock && this.unlockedFile !== this.settings.activeProfile) {
      throw new AppError('locked', `The product is locked: an engineer must unlock it with the PIN to ${action}.`);
    }
  }

  private publicSettings(): AppSettings {
    return { autoProvision: this.settings.autoProvision, usePool: this.settings.usePool };
  }

  /**
   * Adds a batch manifest's identities to the active product's pool. Every entry is checked and
   * its verifier recomputed first (the manifest's category must be the product's), so nothing is
   * imported from a bad file; codes the product already issued are skipped (addManifestToPool).
   */
  async importPool(): Promise<PoolImportReply | null> {
    const station = this.requireStation();
    this.requireEngineer('import identities');
    if (this.importing) throw new AppError('busy', 'A manifest is being imported already.');
    // Between shifts, not mid-unit: the import's checks and its database write share this thread.
    if (this.running.size > 0) throw new AppError('busy', 'A unit is being provisioned: import the manifest when the station is idle.');
    const path = await this.options.platform.pickPoolManifest();
    if (!path) return null;
    const product = station.profile.profile;
    const file = basename(path);
    this.importing = true;
    try {
      const manifest = readPoolManifest(new TextDecoder().decode(await readInputFile(path)), file, { category: product.category });
      await this.verifyPoolEntries(manifest, file);
      const { added, skipped } = addManifestToPool(this.db, product.id, manifest, file);
      this.emitSnapshot();
      return { file, added, skipped, remaining: this.db.poolRemaining(product.id) };
    } catch (err) {
      if (err instanceof ManifestError) throw new AppError('manifest-invalid', err.message);
      const code = (err as NodeJS.ErrnoException).code;
      const why = typeof code === 'string' ? describeFsError(code) : err instanceof Error ? err.message : String(err);
      throw new AppError('manifest-invalid', `${file}: ${why}`);
    } finally {
      this.importing = false;
    }
  }

  /**
   * Recomputes every verifier (~1 ms each), a slice at a time: between slices the event loop runs,
   * so the window, the port watcher and a unit being flashed are never held up for long.
   */
  private async verifyPoolEntries(manifest: PoolManifest, file: string): Promise<void> {
    const total = manifest.identities.length;
    for (let i = 0; i < total; i++) {
      checkPoolVerifier(manifest, i, file);
      if ((i + 1) % POOL_CHECK_SLICE === 0 || i + 1 === total) {
        this.emit({ type: 'pool-import', done: i + 1, total });
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }


  private profilePath(file: string): string {
    return join(this.profilesDir, basename(file));
  }

  private async activate(file: string): Promise<void> {
    if (this.running.size > 0) throw new AppError('busy', 'A unit is being provisioned: wait for it to finish before changing the product.');
    this.stationOff?.();
    this.stationOff = null;
    this.station = null;
    this.loaded = null;
    this.unlockedFile = null;
    this.settings.activeProfile = file;
    try {
      this.loaded = await loadProfile(this.profilePath(file));
      this.productError = null;
    } catch (err) {
      this.productError = err instanceof Error ? err.message : String(err);
      return;
    }
    this.station = new Station({
      db: this.db,
      profile: this.loaded,
      labelDir: this.labelsDir,
      stationName: this.options.stationName ?? 'station',
      operator: this.options.operator ?? 'operator',
      virtualRegistry: this.registry,
      labelCompletes: 'pending',
      usePool: this.settings.usePool,
    });
    this.stationOff = this.station.on(this.onStationEvent);
  }

  async activateProfile(file: string): Promise<AppSnapshot> {
    if (!existsSync(this.profilePath(file))) throw new AppError('not-found', `There is no profile file ${file}.`);
    if (this.loaded?.profile.lock && this.unlockedFile !== this.settings.activeProfile) {
      throw new AppError('locked', 'The current product is locked: an engineer must unlock it with the PIN before switching products.');
    }
    await this.activate(file);
    await this.saveSettings();
    const snap = this.snapshot();
    this.emit({ type: 'snapshot', snapshot: snap });
    return snap;
  }

  async listProfiles(): Promise<ProfileListEntry[]> {
    const files = readdirSync(this.profilesDir).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(files.map((file) => this.profileEntry(file)));
  }

  private async profileEntry(file: string): Promise<ProfileListEntry> {
    const active = file === this.settings.activeProfile;
    try {
      const { profile } = await loadProfile(this.profilePath(file));
      return { file, id: profile.id, productName: profile.productName, active, error: null };
    } catch (err) {
      return { file, id: null, productName: null, active, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async getProfile(file: string): Promise<ProfileEditorData> {
    const path = this.profilePath(file);
    if (!existsSync(path)) throw new AppError('not-found', `There is no profile file ${file}.`);
    const loaded = await loadProfile(path).catch(async (err) => {
      // A profile whose referenced files are missing is still editable: validate the JSON alone.
      if (!(err instanceof ProfileError)) throw err;
      const json = JSON.parse(await readFile(path, 'utf8'));
      return { profile: validateProfile(json, file), path, baseDir: this.profilesDir };
    });
    const { lock, ...draft } = loaded.profile;
    return { file, profile: draft, locked: lock !== undefined, baseDir: loaded.baseDir };
  }

  private async existingProfile(file: string): Promise<ProductProfile | null> {
    const path = this.profilePath(file);
    if (!existsSync(path)) return null;
    try {
      return validateProfile(JSON.parse(await readFile(path, 'utf8')), file);
    } catch {
      return null;
    }
  }

  private requireUnlocked(file: string, existing: ProductProfile | null): void {
    if (existing?.lock && this.unlockedFile !== file) {
      throw new AppError('locked', 'This profile is locked: unlock it with the engineer PIN first.');
    }
  }

  async saveProfile(file: string, draft: ProfileDraft): Promise<ProfileListEntry> {
    if (Object.hasOwn(draft as object, 'lock')) throw new AppError('invalid-argument', 'The PIN lock is set with "Set PIN", not inside the profile.');
    const existing = await this.existingProfile(file);
    this.requireUnlocked(file, existing);
    const profile = validateProfile({ ...draft, ...(existing?.lock ? { lock: existing.lock } : {}) }, file);
    checkProfileReferences(profile, { profilesDir: this.profilesDir, picked: this.picked, existing, source: file });
    if (this.running.size > 0 && file === this.settings.activeProfile) {
      throw new AppError('busy', 'A unit is being provisioned: save the active profile when the line is idle.');
    }
    await saveProfile(this.profilePath(file), profile);
    if (file === this.settings.activeProfile) {
      const wasUnlocked = this.unlockedFile;
      await this.activate(file);
      this.unlockedFile = wasUnlocked;
      this.emitSnapshot();
    }
    return this.profileEntry(file);
  }

  /** Main's file dialog for a profile input file; what the engineer picks may then be referenced. */
  async pickFile(kind: ProfileFileKind): Promise<string | null> {
    const path = await this.options.platform.pickFile(kind);
    if (path) this.picked.remember(path);
    return path;
  }

  async setPin(file: string, pin: string | null): Promise<void> {
    const existing = await this.existingProfile(file);
    if (!existing) throw new AppError('not-found', `There is no valid profile file ${file}.`);
    this.requireUnlocked(file, existing);
    const { lock: _old, ...rest } = existing;
    const next: ProductProfile = pin === null ? rest : { ...rest, lock: { pinHash: await hashPin(pin) } };
    await saveProfile(this.profilePath(file), next);
    if (file === this.settings.activeProfile && this.loaded) {
      this.loaded = { ...this.loaded, profile: next };
      // Whoever just set the PIN stays unlocked until they lock again.
      this.unlockedFile = pin === null ? null : file;
      this.emitSnapshot();
    }
  }

  /** Escalating lock-out after wrong PINs, kept across restarts; scrypt off the main thread (pin-guard.ts). */
  async unlock(pin: string): Promise<boolean> {
    const lock = this.loaded?.profile.lock;
    if (!lock) return true;
    if (!(await this.pinGuard.check(pin, lock.pinHash))) throw new AppError('wrong-pin', 'Wrong PIN.');
    this.unlockedFile = this.settings.activeProfile;
    this.emitSnapshot();
    return true;
  }

  lock(): void {
    this.unlockedFile = null;
    this.emitSnapshot();
  }

  previewLabel(spec: LabelSpec, productName: string): LabelPreview {
    const payload = buildSetupPayload({ category: 1, setupCode: SAMPLE_SETUP_CODE, setupId: SAMPLE_SETUP_ID, flags: { ip: true } });
    const problems = validateLabelSpec(spec, { productName, mac: 'DD:DD:DD:DD:DD:DD' }, { forPdf: false });
    if (problems.length) throw new AppError('profile-invalid', `Label: ${problems.join('; ')}`);
    const layout = layoutLabel(spec, { setupPayload: payload, setupCode: SAMPLE_SETUP_CODE, productName, mac: 'DD:DD:DD:DD:DD:DD' });
    return { svg: renderLabelSvg(layout), widthMm: layout.widthMm, heightMm: layout.heightMm };
  }

  // ---------------------------------------------------------------- ports

  private async refreshRealPorts(): Promise<void> {
    try {
      this.realPorts = await listPorts({ binding: this.options.portBinding, includeAll: false });
    } catch {
      this.realPorts = [];
    }
  }

  private async startWatcher(): Promise<void> {
    this.watcher = new PortWatcher({ binding: this.options.portBinding, espOnly: true });
    this.watcher.on('attach', (p) => {
      this.realPorts = this.watcher!.ports;
      this.seen.delete(p.path);
      this.emitSnapshot();
      this.maybeAutoProvision(p.path);
    });
    this.watcher.on('detach', (p) => {
      this.realPorts = this.watcher!.ports;
      this.seen.delete(p.path);
      this.emitSnapshot();
    });
    this.watcher.on('error', () => undefined);
    this.realPorts = await this.watcher.start();
  }

  private cards(): PortCard[] {
    const cards: PortCard[] = [];
    for (const p of this.realPorts) {
      const seen = this.seen.get(p.path);
      const description = [p.bridge?.description ?? p.manufacturer ?? 'USB serial', p.serialNumber].filter(Boolean).join(' · ');
      cards.push({ path: p.path, description, virtual: false, state: this.portState(p.path), chip: seen?.chip ?? null, mac: seen?.mac ?? null, plugged: true });
    }
    for (const [path, { chip }] of this.demoChips) {
      cards.push({
        path,
        description: `Virtual ${chip.profile.name}`,
        virtual: true,
        state: this.portState(path),
        chip: chip.options.chip,
        mac: chip.options.mac,
        plugged: this.registry.get(path) === chip,
      });
    }
    return cards;
  }

  private portState(path: string) {
    return this.station?.portState(path) ?? { kind: 'idle' as const };
  }

  private requirePort(path: string): void {
    const card = this.cards().find((c) => c.path === path);
    if (!card) throw new AppError('not-found', `No unit is connected on ${path}.`);
  }

  // ---------------------------------------------------------------- snapshot

  private productSummary(): ProductSummary | null {
    if (!this.loaded) return null;
    const p = this.loaded.profile;
    return {
      id: p.id,
      productName: p.productName,
      category: p.category,
      labelSize: labelSize(p.label.size),
      printer: { name: p.printer?.name ?? null, mode: p.printer?.mode ?? 'pdf' },
      locked: p.lock !== undefined,
    };
  }

  snapshot(): AppSnapshot {
    return {
      product: this.productSummary(),
      productError: this.productError,
      ports: this.cards(),
      counters: this.station?.counters() ?? { units: 0, failures: 0, unitsPerHour: 0, since: new Date().toISOString() },
      demo: this.demo,
      settings: this.publicSettings(),
      pool: this.loaded ? { remaining: this.db.poolRemaining(this.loaded.profile.id) } : null,
      unlocked: this.loaded?.profile.lock !== undefined && this.unlockedFile === this.settings.activeProfile,
      dataDir: this.dataDir,
    };
  }

  // ---------------------------------------------------------------- provisioning

  private requireStation(): Station {
    if (!this.station) throw new AppError('profile-invalid', `No product is active${this.productError ? `: ${this.productError}` : ''}. Fix or choose a profile in Settings.`);
    return this.station;
  }

  private async run(port: string, step: (s: Station) => Promise<ProvisionOutcome>): Promise<ProvisionReply> {
    const station = this.requireStation();
    this.requirePort(port);
    if (this.running.has(port)) throw new AppError('busy', `A unit on ${port} is already being provisioned.`);
    this.running.add(port);
    try {
      const outcome = await step(station);
      if (outcome.kind !== 'done') {
        if (outcome.kind === 'failed') this.afterDemoFailure(port);
        return outcome;
      }
      const label = await this.deliverLabel(outcome.result).catch((err: unknown) => ({ status: 'failed' as const, message: err instanceof Error ? err.message : String(err) }));
      return { kind: 'done', result: outcome.result, label };
    } finally {
      this.running.delete(port);
    }
  }

  provisionNext(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.provisionNext(port));
  }

  confirmReflash(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.confirmReflash(port));
  }

  retry(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.retry(port));
  }

  declineReflash(port: string): void {
    this.requireStation().declineReflash(port);
    this.emitSnapshot();
  }

  private maybeAutoProvision(port: string): void {
    if (!this.settings.autoProvision || !this.station || this.running.has(port)) return;
    // Outcomes reach the UI through the station's events; the renderer fetches the label preview.
    void this.provisionNext(port).catch(() => undefined);
  }

  // ---------------------------------------------------------------- labels

  /** Prints (or saves as PDF) the label of a verified unit; the unit stays label-pending on failure. */
  private async deliverLabel(result: ProvisionResult): Promise<LabelOutcome> {
    const station = this.requireStation();
    const product = this.productSummary()!;
    const job: LabelJob = { svg: result.labelSvg, size: product.labelSize };
    const unitId = result.unit.id;
    try {
      let outcome: LabelOutcome;
      if (product.printer.mode === 'print') {
        if (!product.printer.name) throw new AppError('printer', 'No printer is chosen for this product: choose one in Settings, then press Print again.');
        const printers = await this.options.platform.listPrinters();
        let name: string;
        try {
          name = checkPrinterName(product.printer.name, printers);
        } catch (err) {
          throw new AppError('printer', (err as Error).message);
        }
        await this.options.platform.printLabel(job, name);
        outcome = { status: 'printed', unitId, printer: name };
      } else {
        const dir = join(this.labelsDir, 'printed');
        ensureDirSync(dir);
        const path = join(dir, `${product.id}-${result.unit.setupId}-${result.unit.mac.replace(/:/g, '')}.pdf`);
        await this.options.platform.saveLabelPdf(job, path);
        outcome = { status: 'saved', unitId, path };
      }
      station.markLabelPrinted(unitId);
      this.emitSnapshot();
      return outcome;
    } catch (err) {
      const message = err instanceof AppError ? err.message : `The label could not be printed: ${err instanceof Error ? err.message : String(err)}. The unit stays "label pending" — fix the printer and press Print again.`;
      this.emit({ type: 'label', unitId, status: 'failed', message });
      throw new AppError('printer', message);
    }
  }

  async printLabel(unitId: number): Promise<LabelOutcome> {
    const result = await this.requireStation().labelFor(unitId);
    return this.deliverLabel(result);
  }

  getLabel(unitId: number): Promise<ProvisionResult> {
    return this.requireStation().labelFor(unitId);
  }

  // ---------------------------------------------------------------- history

  listUnits(filter: HistoryFilter): UnitSummary[] {
    const station = this.requireStation();
    return station.listUnits({
      mac: filter.mac,
      setupId: filter.setupId,
      status: filter.status,
      from: filter.from,
      to: filter.to ? `${filter.to}T23:59:59.999Z` : undefined,
      limit: filter.limit ?? 500,
    });
  }

  async exportManifest(): Promise<{ path: string } | null> {
    const station = this.requireStation();
    const day = new Date().toISOString().slice(0, 10);
    const path = await this.options.platform.pickManifestPath(`${station.profile.profile.id}-manifest-${day}.csv`);
    if (!path) return null;
    await station.exportManifest(path);
    return { path };
  }

  // ---------------------------------------------------------------- demo

  async enableDemo(): Promise<AppSnapshot> {
    this.demo = true;
    if (this.demoChips.size === 0) this.addDemoChip('esp32');
    this.emitSnapshot();
    return this.snapshot();
  }

  private requireDemo(): void {
    if (!this.demo) throw new AppError('not-demo', 'Virtual chips are only available in demo mode.');
  }

  private demoEntry(port: string): DemoEntry {
    const entry = this.demoChips.get(port);
    if (!entry) throw new AppError('not-found', `${port} is not a virtual chip.`);
    return entry;
  }

  addDemoChip(kind: DemoChipKind): string {
    this.requireDemo();
    if (this.demoChips.size >= 8) throw new AppError('invalid-argument', 'At most 8 virtual chips at a time.');
    const path = `virtual:${kind}-${++this.demoCounter}`;
    const chip = this.registry.create(path, { chip: kind, pacing: this.options.demoPacing ?? true });
    this.demoChips.set(path, { chip });
    this.emitSnapshot();
    this.maybeAutoProvision(path);
    return path;
  }

  demoUnplug(port: string): void {
    this.requireDemo();
    this.demoEntry(port);
    this.registry.remove(port);
    this.emitSnapshot();
  }

  demoReplug(port: string): void {
    this.requireDemo();
    const { chip } = this.demoEntry(port);
    if (this.registry.get(port) !== chip) this.registry.add(port, chip);
    this.emitSnapshot();
    this.maybeAutoProvision(port);
  }

  demoInjectFault(port: string, fault: DemoFault): void {
    this.requireDemo();
    const { chip } = this.demoEntry(port);
    // Byte-triggered faults fire part-way through the next run (a whole run is ~9 kB from the host).
    const afterBytes = 6_000;
    chip.injectFault(fault === 'unplug' ? { kind: 'unplug', afterBytes } : fault === 'stall' ? { kind: 'stall', afterBytes } : { kind: fault });
  }

  /** A demo "no download mode" fault lasts one attempt: the operator then follows the next step. */
  private afterDemoFailure(port: string): void {
    this.demoChips.get(port)?.chip.clearFaults();
  }
}
