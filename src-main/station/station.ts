// The station service: one provisioning pipeline per port (src-main/station/pipeline.ts), and the
// one model of every port (shared/station/port-state.ts), which only this class moves. Used alike
// by the Electron IPC layer and the headless CLI; no electron import. Several ports run
// concurrently and independently; a second request on a busy port is refused.
//
// Setup codes leave this class only in a ProvisionResult (successful provision, or labelFor for a
// reprint): never in events, errors, port states, listUnits/getUnit or the attempt records.
import { generateSetupInfo } from '../../shared/homekit/srp.ts';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import type { AttemptKind, ProvisionResult, ShiftCounters, StationEvent, UnitSummary } from '../../shared/station/events.ts';
import { canMove, isRunning, type BoardInfo, type PortState } from '../../shared/station/port-state.ts';
import type { VirtualChipRegistry } from '../virtual-chip/index.ts';
import type { PortOpener } from '../flash/index.ts';
import { removeStaleTempFiles, writeFileAtomic } from '../fs/index.ts';
import { openRegistry, PoolEmptyError, unitSummary, type PoolEmptyPolicy, type Registry, type RegistryStatus, type UnitFilter, type UnitRecord } from '../registry/index.ts';
import { StationError } from './pipeline.ts';
import { loadProductAssets, type ProductAssets } from './image.ts';
import { LabelFlow } from './label-flow.ts';
import { PortPipeline, type ProvisionOutcome } from './pipeline.ts';
import { PortBoard } from './port-board.ts';
import type { LoadedProfile } from './profile-file.ts';

export { StationError, type ProvisionOutcome } from './pipeline.ts';

const SETUP_ID_SPACE = 36 ** 4;

export interface StationOptions {
  /** An open production registry (the caller closes it) … */
  db?: Registry;
  /** … or where one is (file path or postgres:// URL): the Station opens it and closes it in close(). One of the two is required. */
  dbPath?: string;
  profile: LoadedProfile;
  /** Where label files (SVG + PDF, one pair per unit) are written. */
  labelDir: string;
  stationName: string;
  operator: string;
  virtualRegistry?: VirtualChipRegistry;
  /** Opens serial ports (default: native serialport; `virtual:*` through virtualRegistry). */
  openPort?: PortOpener;
  /** The bench slot number of a port (label, records); null or absent: no slot numbers. */
  slotOf?: (port: string) => number | null;
  /** Take identities from the imported pool instead of generating them. */
  usePool?: boolean;
  /** With usePool, when the product's pool is empty: 'stop' (default; the unit waits for the next manifest) or 'fresh' identities. */
  whenPoolEmpty?: PoolEmptyPolicy;
  /** 'pending' (default; the app prints, then calls labelPrinted) or 'done' (CLI: the label file is the deliverable). */
  labelCompletes?: 'pending' | 'done';
  /** Override the flash baud (default: the profile's, else 921600). */
  baud?: number;
  /** Override the verification (default: the profile's, else 'md5'). */
  verify?: 'md5' | 'readback';
}

type Listener = (e: StationEvent) => void;
type EventOf<T extends StationEvent['type']> = Extract<StationEvent, { type: T }>;


export class Station {
  private registry: Registry;
  private readonly ownsDb: boolean;
  /** The model of every port (the UI is a pure view of it). */
  private readonly ports = new PortBoard((port, state) => this.emit({ type: 'port-state', port, state }));
  private readonly labels: LabelFlow;
  private readonly listeners: { type?: StationEvent['type']; cb: Listener; original: unknown }[] = [];
  private assets: Promise<ProductAssets> | undefined;
  private readonly createdAt = new Date().toISOString();
  /** The active product is recorded in the registry before its first reservation. */
  private productReady: Promise<void> | undefined;
  private offStatus: () => void;

  constructor(readonly options: StationOptions) {
    if (options.db) {
      this.registry = options.db;
      this.ownsDb = false;
    } else if (options.dbPath) {
      this.registry = openRegistry(options.dbPath, { station: options.stationName });
      this.ownsDb = true;
    } else {
      throw new Error('Station: pass db or dbPath');
    }
    this.offStatus = this.db.onStatus((s) => this.registryStatus(s));
    this.labels = new LabelFlow({
      db: () => this.db, ports: this.ports, profile: () => this.profile, stationName: options.stationName, labelDir: options.labelDir,
      slotOf: (port) => this.slotOf(port), emit: (e) => this.emit(e),
    });
    removeStaleTempFiles(options.labelDir); // label temp files (they hold setup codes) of a station that was killed
  }

  /** The production registry the station reserves in and records to. */
  get db(): Registry {
    return this.registry;
  }

  /**
   * Records go to another registry from the next unit on (the app's Settings → Database; the
   * caller opened it and closes the old one). Refused while a unit is running.
   */
  useRegistry(db: Registry): void {
    if (this.ports.busy) throw new StationError('busy', 'A unit is being provisioned.', 'Wait for it to finish before changing the database.');
    this.offStatus();
    this.registry = db;
    this.productReady = undefined;
    this.offStatus = db.onStatus((s) => this.registryStatus(s));
  }

  /** Records the active product (once per product; tried again after a failure). */
  private ensureProduct(): Promise<void> {
    this.productReady ??= this.db.upsertProduct(this.profile.profile).catch((err: unknown) => {
      this.productReady = undefined;
      throw err;
    });
    return this.productReady;
  }

  /** The registry stopped answering or is back: one event, and the running tiles say so. */
  private registryStatus(s: RegistryStatus): void {
    this.emit({ type: 'registry', state: s });
    for (const port of this.ports.runningPorts()) this.ports.patch(port, { message: s.online ? 'Database reachable again' : 'Waiting for the production database…' });
  }

  private slotOf(port: string): number | null {
    return this.options.slotOf?.(port) ?? null;
  }

  get profile(): LoadedProfile {
    return this.options.profile;
  }

  /**
   * Switches the product (the app's profile switch or save). The ports keep their models — a
   * finished board stays finished — so this is refused while any port is running.
   */
  setProfile(profile: LoadedProfile): void {
    if (this.ports.busy) {
      throw new StationError('busy', 'A unit is being provisioned.', 'Wait for it to finish before changing the product.');
    }
    this.options.profile = profile;
    this.assets = undefined;
    this.productReady = undefined;
  }

  /** True while a run or a print is going on on any port. */
  get busy(): boolean {
    return this.ports.busy;
  }

  /** Closes the database if the Station opened it (dbPath). */
  async close(): Promise<void> {
    this.offStatus();
    if (this.ownsDb) await this.db.close();
  }

  // ------------------------------------------------------------------ events

  /** Every event: `on(cb)`; one type: `on('stage', cb)`. Returns the unsubscribe function. */
  on(listener: Listener): () => void;
  on<T extends StationEvent['type']>(type: T, listener: (e: EventOf<T>) => void): () => void;
  on(a: Listener | StationEvent['type'], b?: (e: never) => void): () => void {
    const entry = typeof a === 'function' ? { cb: a, original: a } : { type: a, cb: b as unknown as Listener, original: b };
    this.listeners.push(entry);
    return () => this.off(entry.original as Listener);
  }

  off(listener: Listener | ((e: never) => void)): void {
    for (let i = this.listeners.length - 1; i >= 0; i--) if (this.listeners[i]!.original === listener) this.listeners.splice(i, 1);
  }

  private emit(e: StationEvent): void {
    for (const l of [...this.listeners]) {
      if (l.type && l.type !== e.type) continue;
      try {
        l.cb(e);
      } catch {
        // A broken listener (e.g. a closed window) must never stop a flashing unit.
      }
    }
  }

  // ------------------------------------------------------------------ the port model

  /** The port's model (see shared/station/port-state.ts). A port never seen is ready (the CLI names its port). */
  portState(port: string): PortState {
    return this.ports.state(port);
  }

  /**
   * The port watcher reports boards coming and going. A board that arrives starts a fresh slot
   * ("new board — not provisioned"); one that leaves cancels its run and empties the slot.
   */
  portChanged(port: string, change: 'attached' | 'detached', board: BoardInfo | null = null): void {
    this.ports.changed(port, change, board);
  }

  // ------------------------------------------------------------------ provisioning

  /** Provision whatever unit is on `port`: a new identity, or (after confirmation) its own again. */
  provisionNext(port: string, opts: { confirmReflash?: boolean } = {}): Promise<ProvisionOutcome> {
    return this.start(port, { ...opts, kind: 'provision' });
  }

  private async start(port: string, opts: { confirmReflash?: boolean; expectUnitId?: number; kind: AttemptKind }): Promise<ProvisionOutcome> {
    const entry = this.ports.entry(port);
    if (opts.kind === 'retry' && entry.confirmedUnit !== undefined && entry.state.phase === 'failed') {
      // Retrying a re-flash the operator already agreed to: not the same question again.
      opts = { ...opts, confirmReflash: true, expectUnitId: opts.expectUnitId ?? entry.confirmedUnit };
    }
    entry.confirmedUnit = opts.confirmReflash ? opts.expectUnitId : undefined;
    if (!canMove(entry.state.phase, 'detect')) {
      const busy = isRunning(entry.state.phase) || entry.state.phase === 'printing';
      return busy
        ? { kind: 'failed', port, stage: 'detect', code: 'port-busy', message: `A unit on ${port} is already being provisioned.`, nextStep: 'Wait for it to finish.' }
        : { kind: 'failed', port, stage: 'detect', code: 'port-not-found', message: `No board is plugged in on ${port}.`, nextStep: 'Plug the board in, then press Provision.' };
    }
    const abort = new AbortController();
    entry.abort = abort;
    const run = ++entry.run;
    const slot = this.slotOf(port);
    const started = Date.now();
    const pipeline = new PortPipeline(
      {
        port,
        slot,
        profile: this.profile,
        assets: () => (this.assets ??= loadProductAssets(this.profile).catch((err: unknown) => {
          this.assets = undefined; // a missing file may be fixed: try again next run
          throw err;
        })),
        db: this.db,
        reserve: (mac, chip) => this.reserve(mac, chip),
        labelDir: this.options.labelDir,
        labelCompletes: this.options.labelCompletes ?? 'pending',
        virtualRegistry: this.options.virtualRegistry,
        openPort: this.options.openPort,
        baud: this.options.baud ?? this.profile.profile.baud,
        verify: this.options.verify ?? this.profile.profile.verify ?? 'md5',
        signal: abort.signal,
        expectUnitId: opts.expectUnitId,
        warnings: () => this.warnings(),
        move: (phase, patch) => this.ports.move(port, phase, patch, run),
        patch: (patch) => this.ports.patch(port, patch, run),
        emit: (e) => this.emit(e),
      },
      entry.state.phase,
    );
    try {
      const outcome = await pipeline.run(opts);
      await this.recordRun(port, slot, opts.confirmReflash && opts.kind !== 'retry' ? 'reflash' : opts.kind, outcome, Date.now() - started, pipeline.bootLog);
      if (outcome.kind === 'done') entry.confirmedUnit = undefined;
      return outcome;
    } finally {
      if (entry.abort === abort) entry.abort = undefined;
    }
  }

  private async recordRun(port: string, slot: number | null, kind: AttemptKind, outcome: ProvisionOutcome, durationMs: number, bootLog: string | null): Promise<void> {
    const p = this.profile.profile;
    const base = { station: this.options.stationName, product: p.id, port, slot, kind, durationMs, bootLog };
    try {
      if (outcome.kind === 'done') {
        await this.db.attempts.record({ ...base, unitId: outcome.result.unit.id, mac: outcome.result.unit.mac, outcome: 'ok' });
      } else if (outcome.kind === 'needs-confirmation') {
        await this.db.attempts.record({ ...base, unitId: outcome.unitId, mac: outcome.mac, outcome: 'needs-confirmation', stage: 'identity' });
      } else {
        const mac = this.ports.state(port).board?.mac ?? null;
        await this.db.attempts.record({ ...base, unitId: outcome.unitId ?? null, mac, outcome: 'failed', stage: outcome.stage, code: outcome.code, message: outcome.message });
      }
    } catch {
      // The attempt log must never turn a finished unit into a failure.
    }
  }

  /** The operator agreed to re-flash the re-plugged unit with its own identity. */
  confirmReflash(port: string): Promise<ProvisionOutcome> {
    const state = this.portState(port);
    if (state.phase !== 'needs-confirmation' || !state.unit) {
      return Promise.resolve({ kind: 'failed', port, stage: 'identity', code: 'nothing-to-confirm', message: 'No re-flash is waiting for confirmation on this port.', nextStep: 'Press Provision.' });
    }
    return this.start(port, { confirmReflash: true, expectUnitId: state.unit.id, kind: 'reflash' });
  }

  /** Declines a re-flash offer: the unit keeps what it has; the slot is ready for the next board. */
  declineReflash(port: string): void {
    const entry = this.ports.entry(port);
    if (entry?.state.phase === 'needs-confirmation') this.ports.move(port, 'ready', { message: 'Re-flash declined: the unit keeps its identity', unit: null, failure: null });
  }

  /**
   * Runs again after a failure. By port: whatever unit is on it (a failed unit is found by its MAC
   * and gets its reserved identity back). By unit id: on the port it was last seen on, refusing a
   * different unit.
   */
  retry(target: string | number): Promise<ProvisionOutcome> {
    if (typeof target === 'string') return this.start(target, { kind: 'retry' });
    const port = this.ports.lastPortOf(target);
    if (!port) {
      return Promise.resolve({ kind: 'failed', port: '', unitId: target, stage: 'detect', code: 'unknown-port', message: `Unit ${target} was not seen on any port in this session.`, nextStep: 'Plug it in and press Provision: it gets its own identity back.' });
    }
    return this.start(port, { expectUnitId: target, kind: 'retry' });
  }

  /** Stops the run on the port at its next step (the unit keeps its identity, status failed). */
  cancel(port: string): boolean {
    const a = this.ports.entry(port).abort;
    a?.abort();
    return a !== undefined;
  }

  private async reserve(mac: string, chip: string): Promise<{ unit: UnitRecord; existing: boolean }> {
    const p = this.profile.profile;
    const payloadFor = (code: string, id: string) => buildSetupPayload({ category: p.category, setupCode: code, setupId: id, flags: p.flags, productData: p.productData });
    await this.ensureProduct();
    return this.db.reserveIdentity({
      product: p.id,
      mac,
      chip,
      station: this.options.stationName,
      operator: this.options.operator,
      usePool: this.options.usePool ?? false,
      whenPoolEmpty: this.options.whenPoolEmpty ?? 'stop',
      poolPayload: payloadFor,
      ...(p.serial ? { serial: { scheme: p.serial } } : {}),
      // Code and ID are drawn by the database under the issuing policy; here the SRP secrets.
      fresh: ({ setupCode, setupId }) => {
        const { salt, verifier } = generateSetupInfo(setupCode);
        return { setupCode, setupId, salt, verifier, payload: payloadFor(setupCode, setupId) };
      },
    }).catch((err: unknown) => {
      if (err instanceof PoolEmptyError) throw new StationError('pool-empty', `The identity pool of ${p.productName} is empty: no identity was given and nothing was written to the unit.`, 'Import the next batch manifest (Settings → Identity pool), or have the engineer allow fresh identities when the pool is empty; then press Provision.');
      throw err;
    });
  }

  /**
   * Call once at start-up: units this station left 'reserved' or 'flashing' (a crash or power cut)
   * are marked failed ("interrupted"). Each keeps its identity and completes with it when its MAC
   * is provisioned again. Other stations' units are left alone (they may be running now).
   */
  async resumeIncomplete(): Promise<UnitSummary[]> {
    const out: UnitSummary[] = [];
    for (const u of await this.db.incompleteUnits(this.profile.profile.id)) {
      if (u.station !== this.options.stationName || (u.status !== 'reserved' && u.status !== 'flashing')) continue;
      const was = u.status;
      const marked = await this.db.setStatus(u.id, 'failed', { failure: `Interrupted while ${was === 'reserved' ? 'starting' : 'flashing'} (the station stopped). Re-plug the unit and press Provision: it keeps its identity.` });
      await this.db.audit('interrupted', u.id, { was });
      out.push(unitSummary(marked));
    }
    return out;
  }

  /** Units left unfinished (a crash, a failure, no label yet): they complete with their own identity. */
  async incompleteUnits(): Promise<UnitSummary[]> {
    return (await this.db.incompleteUnits(this.profile.profile.id)).map(unitSummary);
  }

  // ------------------------------------------------------------------ counters & warnings

  /** The station's shift since `since` (default: since this Station was created), from the attempt records. */
  counters(since: string = this.createdAt): Promise<ShiftCounters> {
    return this.db.attempts.shiftCounters(this.options.stationName, since);
  }

  private async warnings(): Promise<string[]> {
    const ids = await this.setupIdUsage();
    const out: string[] = [];
    if (ids.low) out.push(`${ids.used} of ${ids.space} setup IDs are in use for this product: plan a new product ID before they run out (IDs never repeat).`);
    if (this.options.usePool) {
      const left = await this.db.poolRemaining(this.profile.profile.id);
      if (left < 50) out.push(`Only ${left} identities left in the pool: import the next batch manifest.`);
    }
    return out;
  }

  /** Setup IDs in use for this product, and whether the 36^4 space is running low (> 50 %). */
  async setupIdUsage(): Promise<{ used: number; space: number; low: boolean }> {
    const used = await this.db.countSetupIds(this.profile.profile.id);
    return { used, space: SETUP_ID_SPACE, low: used > SETUP_ID_SPACE / 2 };
  }

  // ------------------------------------------------------------------ labels (label-flow.ts)

  /** The label of a recorded unit (for "Print again" and reprints), with its own product's settings. */
  labelFor(unitId: number): Promise<ProvisionResult> {
    return this.labels.labelFor(unitId);
  }

  /** A print of the unit's label has started. */
  labelPrinting(unitId: number): void {
    this.labels.printing(unitId);
  }

  /** The label went out: done, or awaiting its scan (scan-back products). */
  labelPrinted(unitId: number, note: string): Promise<void> {
    return this.labels.printed(unitId, note);
  }

  /** The print failed: the unit stays label pending (amber). */
  labelFailed(unitId: number, message: string): Promise<void> {
    return this.labels.failed(unitId, message);
  }

  /** A label scanned on `port`'s tile: accepted only if it is that board's unit's label. */
  scanLabel(port: string, text: string): Promise<{ ok: boolean; message: string }> {
    return this.labels.scan(port, text);
  }

  // ------------------------------------------------------------------ records

  async listUnits(filter: UnitFilter = {}): Promise<UnitSummary[]> {
    return (await this.db.listUnits({ product: this.profile.profile.id, ...filter })).map(unitSummary);
  }

  async getUnit(id: number): Promise<UnitSummary | undefined> {
    const u = await this.db.getUnit(id);
    return u ? unitSummary(u) : undefined;
  }

  /** The production manifest CSV (holds setup codes: written with mode 0600). */
  async exportManifest(path: string): Promise<void> {
    await writeFileAtomic(path, await this.db.exportManifestCsv({ product: this.profile.profile.id }), 0o600);
  }
}
