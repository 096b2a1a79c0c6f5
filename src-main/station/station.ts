// The station service: one provisioning pipeline per port (src-main/station/pipeline.ts, state
// machine in shared/station/states.ts), used alike by the Electron IPC layer and the headless CLI.
// No electron import. Several ports run concurrently and independently; a second request on a
// busy port is refused.
//
// Setup codes leave this class only in a ProvisionResult (successful provision, or labelFor for a
// reprint): never in events, errors, listUnits/getUnit or the audit trail.
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { generateSetupInfo } from '../../shared/homekit/srp.ts';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import type { LabelLayout } from '../../shared/label/index.ts';
import type { PortState, ProvisionResult, Stage, ShiftCounters, StationEvent, UnitSummary } from '../../shared/station/events.ts';
import { isBusy, type PipelineState } from '../../shared/station/states.ts';
import type { VirtualChipRegistry } from '../virtual-chip/index.ts';
import { removeStaleTempFiles, writeFileAtomic } from '../fs/index.ts';
import { ProductionDb, unitSummary, type UnitFilter, type UnitRecord } from './db.ts';
import { loadProductAssets, type ProductAssets } from './image.ts';
import { unitLabelLayout, writeUnitLabel } from './labels.ts';
import { PortPipeline, StationError, type ProvisionOutcome } from './pipeline.ts';
import type { LoadedProfile } from './profile-file.ts';

export { StationError, type ProvisionOutcome } from './pipeline.ts';

const SETUP_ID_SPACE = 36 ** 4;

export interface StationOptions {
  /** An open production database (the caller closes it) … */
  db?: ProductionDb;
  /** … or a path: the Station opens the database and closes it in close(). One of the two is required. */
  dbPath?: string;
  profile: LoadedProfile;
  /** Where label files (SVG + PDF, one pair per unit) are written. */
  labelDir: string;
  stationName: string;
  operator: string;
  virtualRegistry?: VirtualChipRegistry;
  /** Take identities from the imported pool instead of generating them. */
  usePool?: boolean;
  /** 'pending' (default; the app prints, then calls markLabelPrinted) or 'done' (CLI: the label file is the deliverable). */
  labelCompletes?: 'pending' | 'done';
  /** Override the flash baud (default: the profile's, else 921600). */
  baud?: number;
  /** Override the verification (default: the profile's, else 'md5'). */
  verify?: 'md5' | 'readback';
}

type Listener = (e: StationEvent) => void;
type EventOf<T extends StationEvent['type']> = Extract<StationEvent, { type: T }>;

interface PortEntry {
  state: PipelineState;
  unitId?: number;
  detail: PortState;
  abort?: AbortController;
}

export class Station {
  readonly db: ProductionDb;
  private readonly ownsDb: boolean;
  private readonly ports = new Map<string, PortEntry>();
  private readonly listeners: { type?: StationEvent['type']; cb: Listener; original: unknown }[] = [];
  private assets: Promise<ProductAssets> | undefined;
  /** Where each unit was last seen, so retry(unitId) knows its port. */
  private readonly unitPorts = new Map<number, string>();
  private readonly shift = { start: Date.now(), units: 0, failures: 0 };

  constructor(readonly options: StationOptions) {
    if (options.db) {
      this.db = options.db;
      this.ownsDb = false;
    } else if (options.dbPath) {
      this.db = ProductionDb.open(options.dbPath);
      this.ownsDb = true;
    } else {
      throw new Error('Station: pass db or dbPath');
    }
    this.db.upsertProduct(options.profile.profile);
    removeStaleTempFiles(options.labelDir); // label temp files (they hold setup codes) of a station that was killed
  }

  get profile(): LoadedProfile {
    return this.options.profile;
  }

  /** Closes the database if the Station opened it (dbPath). */
  close(): void {
    if (this.ownsDb) this.db.close();
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

  // ------------------------------------------------------------------ ports

  /** The port's state machine position (see shared/station/states.ts). */
  pipelineState(port: string): PipelineState {
    return this.ports.get(port)?.state ?? 'idle';
  }

  /** The port's state for the UI (running stage, failure with next step, pending confirmation …). */
  portState(port: string): PortState {
    return this.ports.get(port)?.detail ?? { kind: 'idle' };
  }

  /** The port watcher reports ports coming and going; unplugging a busy port cancels its run. */
  portChanged(port: string, change: 'attached' | 'detached'): void {
    if (change === 'detached') this.ports.get(port)?.abort?.abort();
    this.emit({ type: 'port', port, change });
  }

  private track(port: string, e: StationEvent): void {
    const entry = this.ports.get(port);
    if (!entry) return;
    if (e.type === 'state') {
      entry.state = e.state;
      entry.unitId = e.unitId ?? entry.unitId;
      if (e.unitId !== undefined) this.unitPorts.set(e.unitId, port);
      if (isBusy(e.state)) entry.detail = { kind: 'running', stage: e.state as Stage, unitId: e.unitId };
      if (e.state === 'done' && e.unitId !== undefined) entry.detail = { kind: 'done', unitId: e.unitId };
    } else if (e.type === 'needs-confirmation') {
      entry.detail = { kind: 'needs-confirmation', unitId: e.unitId, mac: e.mac, setupId: e.setupId };
    } else if (e.type === 'failure') {
      entry.detail = { kind: 'failed', stage: e.stage, unitId: e.unitId, code: e.code, message: e.message, nextStep: e.nextStep };
    }
  }

  // ------------------------------------------------------------------ provisioning

  /** Provision whatever unit is on `port`: a new identity, or (after confirmation) its own again. */
  provisionNext(port: string, opts: { confirmReflash?: boolean } = {}): Promise<ProvisionOutcome> {
    return this.start(port, opts);
  }

  private async start(port: string, opts: { confirmReflash?: boolean; expectUnitId?: number }): Promise<ProvisionOutcome> {
    const entry = this.ports.get(port) ?? { state: 'idle' as PipelineState, detail: { kind: 'idle' } as PortState };
    if (isBusy(entry.state)) {
      return { kind: 'failed', port, stage: 'detect', code: 'port-busy', message: `A unit on ${port} is already being provisioned.`, nextStep: 'Wait for it to finish.' };
    }
    const abort = new AbortController();
    entry.abort = abort;
    this.ports.set(port, entry);
    const pipeline = new PortPipeline(
      {
        port,
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
        baud: this.options.baud ?? this.profile.profile.baud,
        verify: this.options.verify ?? this.profile.profile.verify ?? 'md5',
        signal: abort.signal,
        expectUnitId: opts.expectUnitId,
        warnings: () => this.warnings(),
        emit: (e) => {
          this.track(port, e);
          this.emit(e);
        },
      },
      entry.state,
    );
    try {
      const outcome = await pipeline.run(opts);
      if (outcome.kind === 'done') this.shift.units++;
      if (outcome.kind === 'failed') this.shift.failures++;
      if (outcome.kind !== 'needs-confirmation') this.emit({ type: 'counters', counters: this.counters() });
      return outcome;
    } finally {
      entry.abort = undefined;
    }
  }

  /** The operator agreed to re-flash the re-plugged unit with its own identity. */
  confirmReflash(port: string): Promise<ProvisionOutcome> {
    const state = this.portState(port);
    if (state.kind !== 'needs-confirmation') {
      return Promise.resolve({ kind: 'failed', port, stage: 'identity', code: 'nothing-to-confirm', message: 'No re-flash is waiting for confirmation on this port.', nextStep: 'Press Provision.' });
    }
    return this.start(port, { confirmReflash: true, expectUnitId: state.unitId });
  }

  /** Declines a re-flash offer: the unit keeps what it has. */
  declineReflash(port: string): void {
    const entry = this.ports.get(port);
    if (entry?.state === 'needs-confirmation') {
      entry.state = 'idle';
      entry.detail = { kind: 'idle' };
      this.emit({ type: 'state', port, state: 'idle', unitId: entry.unitId });
    }
  }

  /**
   * Runs again after a failure. By port: whatever unit is on it (a failed unit is found by its MAC
   * and gets its reserved identity back). By unit id: on the port it was last seen on, refusing a
   * different unit.
   */
  retry(target: string | number): Promise<ProvisionOutcome> {
    if (typeof target === 'string') return this.provisionNext(target);
    const port = this.unitPorts.get(target);
    if (!port) {
      return Promise.resolve({ kind: 'failed', port: '', unitId: target, stage: 'detect', code: 'unknown-port', message: `Unit ${target} was not seen on any port in this session.`, nextStep: 'Plug it in and press Provision: it gets its own identity back.' });
    }
    return this.start(port, { expectUnitId: target });
  }

  /** Stops the run on the port at its next step (the unit keeps its identity, status failed). */
  cancel(port: string): boolean {
    const a = this.ports.get(port)?.abort;
    a?.abort();
    return a !== undefined;
  }

  private reserve(mac: string, chip: string): { unit: UnitRecord; existing: boolean } {
    const p = this.profile.profile;
    const payloadFor = (code: string, id: string) => buildSetupPayload({ category: p.category, setupCode: code, setupId: id, flags: p.flags, productData: p.productData });
    return this.db.reserveIdentity({
      product: p.id,
      mac,
      chip,
      station: this.options.stationName,
      operator: this.options.operator,
      usePool: this.options.usePool ?? false,
      poolPayload: payloadFor,
      // Code and ID are drawn by the database under the issuing policy; here the SRP secrets.
      fresh: ({ setupCode, setupId }) => {
        const { salt, verifier } = generateSetupInfo(setupCode);
        return { setupCode, setupId, salt, verifier, payload: payloadFor(setupCode, setupId) };
      },
    });
  }

  /**
   * Call once at start-up: units this station left 'reserved' or 'flashing' (a crash or power cut)
   * are marked failed ("interrupted"). Each keeps its identity and completes with it when its MAC
   * is provisioned again. Other stations' units are left alone (they may be running now).
   */
  resumeIncomplete(): UnitSummary[] {
    const out: UnitSummary[] = [];
    for (const u of this.db.incompleteUnits(this.profile.profile.id)) {
      if (u.station !== this.options.stationName || (u.status !== 'reserved' && u.status !== 'flashing')) continue;
      const was = u.status;
      const marked = this.db.setStatus(u.id, 'failed', { failure: `Interrupted while ${was === 'reserved' ? 'starting' : 'flashing'} (the station stopped). Re-plug the unit and press Provision: it keeps its identity.` });
      this.db.audit('interrupted', u.id, { was });
      out.push(unitSummary(marked));
    }
    return out;
  }

  /** Units left unfinished (a crash, a failure, no label yet): they complete with their own identity. */
  incompleteUnits(): UnitSummary[] {
    return this.db.incompleteUnits(this.profile.profile.id).map(unitSummary);
  }

  // ------------------------------------------------------------------ counters & warnings

  /** This shift (since the Station was created): units done, failures, units per hour. */
  counters(): ShiftCounters {
    const hours = Math.max((Date.now() - this.shift.start) / 3_600_000, 1 / 60);
    return { units: this.shift.units, failures: this.shift.failures, unitsPerHour: Math.round(this.shift.units / hours), since: new Date(this.shift.start).toISOString() };
  }

  private warnings(): string[] {
    const ids = this.setupIdUsage();
    const out: string[] = [];
    if (ids.low) out.push(`${ids.used} of ${ids.space} setup IDs are in use for this product: plan a new product ID before they run out (IDs never repeat).`);
    if (this.options.usePool) {
      const left = this.db.poolRemaining(this.profile.profile.id);
      if (left < 50) out.push(`Only ${left} identities left in the pool: import the next batch manifest.`);
    }
    return out;
  }

  /** Setup IDs in use for this product, and whether the 36^4 space is running low (> 50 %). */
  setupIdUsage(): { used: number; space: number; low: boolean } {
    const used = this.db.countSetupIds(this.profile.profile.id);
    return { used, space: SETUP_ID_SPACE, low: used > SETUP_ID_SPACE / 2 };
  }

  // ------------------------------------------------------------------ labels & records

  labelLayout(unit: UnitRecord): LabelLayout {
    return unitLabelLayout(this.profile.profile, unit);
  }

  /** The label of a recorded unit (for "Print again"): its SVG, PDF path and code. Refused for unverified units. */
  async labelFor(unitId: number): Promise<ProvisionResult> {
    const unit = this.db.getUnit(unitId);
    if (!unit) throw new StationError('unknown-unit', `Unit ${unitId} is not in the database.`, 'Search the history again.');
    if (unit.status === 'reserved' || unit.status === 'flashing' || unit.status === 'failed') {
      throw new StationError('not-verified', `Unit ${unit.mac} was never verified: no label may be printed for it.`, 'Provision the unit again.');
    }
    const label = await writeUnitLabel(this.profile.profile, unit, this.options.labelDir);
    return {
      unit: unitSummary(unit), port: '', setupCode: formatSetupCode(unit.setupCode), payload: unit.payload,
      labelSvg: label.svg, labelPdfPath: label.pdfPath, reflashed: false, timings: { totalMs: 0, flashMs: 0 }, warnings: [],
    };
  }

  /** The label went out (printed or saved): label-pending → done, print count + 1. */
  markLabelPrinted(unitId: number): void {
    const unit = this.db.markLabelPrinted(unitId);
    this.emit({ type: 'label', unitId: unit.id, status: 'printed' });
  }

  listUnits(filter: UnitFilter = {}): UnitSummary[] {
    return this.db.listUnits({ product: this.profile.profile.id, ...filter }).map(unitSummary);
  }

  getUnit(id: number): UnitSummary | undefined {
    const u = this.db.getUnit(id);
    return u ? unitSummary(u) : undefined;
  }

  /** The production manifest CSV (holds setup codes: written with mode 0600). */
  async exportManifest(path: string): Promise<void> {
    await writeFileAtomic(path, this.db.exportManifestCsv(this.profile.profile.id), 0o600);
  }
}
