// The station service: one provisioning pipeline per port, run as an explicit state machine
// (shared/station/events.ts), used alike by the Electron IPC layer and the headless CLI.
//
// The order of operations is what keeps the promise "no identity issued twice, lost, or printed
// for the wrong unit": the MAC is read from the connected chip first; the identity for that MAC is
// reserved in a database transaction before anything is written; the label is produced only after
// the flash was verified on that same connection.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSetupCode, formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { generateSetupId } from '../../shared/homekit/setup-id.ts';
import { generateSetupInfo } from '../../shared/homekit/srp.ts';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import { layoutLabel, renderLabelSvg, type LabelLayout } from '../../shared/label/index.ts';
import {
  canTransition,
  type PortState,
  type ProvisionResult,
  type ShiftCounters,
  type Stage,
  type StationEvent,
} from '../../shared/station/events.ts';
import { FlashError, openFlashSession, toFlashError, writePlan, type FlashProgress, type FlashSession } from '../flash/index.ts';
import type { VirtualChipRegistry } from '../virtual-chip/index.ts';
import { renderLabelPdf } from '../label/pdf.ts';
import { writeFileAtomic } from '../cli/io.ts';
import { ProductionDb, unitSummary, type UnitFilter, type UnitRecord } from './db.ts';
import { buildUnitNvsImage, buildUnitPlan, loadProductAssets, type ProductAssets } from './image.ts';
import type { LoadedProfile } from './profile-file.ts';

const SETUP_ID_SPACE = 36 ** 4;

export interface StationOptions {
  db: ProductionDb;
  profile: LoadedProfile;
  /** Where label PDFs are written (one per unit). */
  labelDir: string;
  stationName: string;
  operator: string;
  virtualRegistry?: VirtualChipRegistry;
  /** Take identities from the imported pool instead of generating them. */
  usePool?: boolean;
  /** 'pending' (app: printing marks it done) or 'done' (CLI: the label file is the deliverable). */
  labelCompletes?: 'pending' | 'done';
  /** Override the flash baud (default: the profile's, else 921600). */
  baud?: number;
}

export type ProvisionOutcome =
  | { kind: 'done'; result: ProvisionResult }
  | { kind: 'needs-confirmation'; port: string; unitId: number; mac: string; setupId: string }
  | { kind: 'failed'; port: string; unitId?: number; stage: Stage; code: string; message: string; nextStep: string };

/** An operator-facing failure; never contains a setup code. */
export class StationError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly nextStep: string,
  ) {
    super(message);
    this.name = 'StationError';
  }
}

const NEXT_STEP: Record<string, string> = {
  'no-download-mode': 'Hold BOOT, tap RESET (or re-plug the unit while holding BOOT), then press Retry.',
  'port-busy': 'Close the other program using this port (serial monitor, IDE), then press Retry.',
  'port-not-found': 'Check the cable and that the unit is plugged in, then press Retry.',
  unplugged: 'Plug the unit back in and press Retry: it keeps the identity it was given.',
  timeout: 'Re-plug the unit and press Retry; if it keeps failing, try another cable or port.',
  'verify-mismatch': 'Press Retry to write again; if it fails twice, set the unit aside (flash fault).',
  'wrong-chip': 'This unit is not the chip this product uses: check the profile or the unit.',
  'flash-too-small': 'This unit has too little flash for this firmware: set it aside.',
  cancelled: 'Press Provision to start again.',
};

function nextStepFor(code: string): string {
  return NEXT_STEP[code] ?? 'Press Retry; if it keeps failing, call the line engineer.';
}

export class Station {
  private readonly ports = new Map<string, PortState>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly listeners = new Set<(e: StationEvent) => void>();
  private assets: ProductAssets | undefined;
  private readonly shift = { start: Date.now(), units: 0, failures: 0 };

  constructor(readonly options: StationOptions) {
    options.db.upsertProduct(options.profile.profile);
  }

  get profile(): LoadedProfile {
    return this.options.profile;
  }

  on(listener: (e: StationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A broken listener (e.g. a closed window) must never stop a flashing unit.
      }
    }
  }

  portState(port: string): PortState {
    return this.ports.get(port) ?? { kind: 'idle' };
  }

  private setState(port: string, next: PortState): void {
    const from = this.portState(port).kind;
    if (!canTransition(from, next.kind) && from !== next.kind) throw new Error(`internal: ${from} → ${next.kind} is not a pipeline transition`);
    this.ports.set(port, next);
  }

  private stage(port: string, stage: Stage, percent: number, message: string, unitId?: number): void {
    this.setState(port, { kind: 'running', stage, unitId });
    this.emit({ type: 'stage', port, unitId, stage, percent, message });
  }

  counters(): ShiftCounters {
    const hours = Math.max((Date.now() - this.shift.start) / 3_600_000, 1 / 60);
    return { units: this.shift.units, failures: this.shift.failures, unitsPerHour: Math.round(this.shift.units / hours), since: new Date(this.shift.start).toISOString() };
  }

  /** Provision whatever unit is on `port`: a new identity, or (after confirmation) its own again. */
  async provisionNext(port: string, opts: { confirmReflash?: boolean } = {}): Promise<ProvisionOutcome> {
    if (this.portState(port).kind === 'running') {
      return { kind: 'failed', port, stage: 'detect', code: 'port-busy', message: `A unit on ${port} is already being provisioned.`, nextStep: 'Wait for it to finish.' };
    }
    const abort = new AbortController();
    this.aborts.set(port, abort);
    const started = Date.now();
    let unit: UnitRecord | undefined;
    let session: FlashSession | undefined;
    let stage: Stage = 'detect';
    try {
      this.stage(port, 'detect', 0, `Looking for a unit on ${port}`);
      this.assets ??= await loadProductAssets(this.profile);
      const baud = this.options.baud ?? this.profile.profile.baud;
      const onProgress = (p: FlashProgress) => {
        if (p.stage === 'write' || p.stage === 'verify' || p.stage === 'readback') {
          const s: Stage = p.stage === 'write' ? 'flash' : 'verify';
          this.emit({ type: 'stage', port, unitId: unit?.id, stage: s, percent: p.percent, message: p.message ?? (p.region ? `Writing ${p.region}` : 'Writing') });
        }
      };
      stage = 'connect';
      this.stage(port, 'connect', 5, 'Connecting to the bootloader');
      session = await openFlashSession(port, { virtualRegistry: this.options.virtualRegistry, baud, signal: abort.signal, onProgress });
      const info = session.info;

      stage = 'identity';
      this.stage(port, 'identity', 15, `Unit ${info.mac} (${info.chipName})`);
      const reserved = this.reserve(info.mac, info.chip);
      unit = reserved.unit;
      // 'verified' without a label is unfinished (e.g. a crash before the label): it completes without asking.
      const finished = unit.status === 'label-pending' || unit.status === 'done';
      if (reserved.existing && finished && !opts.confirmReflash) {
        this.setState(port, { kind: 'needs-confirmation', unitId: unit.id, mac: unit.mac, setupId: unit.setupId });
        this.emit({ type: 'needs-confirmation', port, unitId: unit.id, mac: unit.mac, setupId: unit.setupId });
        this.options.db.audit('reflash-offered', unit.id);
        return { kind: 'needs-confirmation', port, unitId: unit.id, mac: unit.mac, setupId: unit.setupId };
      }

      stage = 'image';
      this.stage(port, 'image', 20, 'Building the factory NVS image', unit.id);
      const { image, sha256 } = buildUnitNvsImage(this.profile, this.assets, unit);
      const plan = await buildUnitPlan(this.profile, this.assets, image);

      stage = 'flash';
      this.options.db.setStatus(unit.id, 'flashing', { incrementAttempts: true, chip: String(info.chip), failure: null });
      this.stage(port, 'flash', 25, 'Writing flash', unit.id);
      const flashStart = Date.now();
      await writePlan(session, plan, { verify: this.profile.profile.verify ?? 'md5', expectMac: info.mac, signal: abort.signal, onProgress });
      const flashMs = Date.now() - flashStart;

      stage = 'verify';
      this.stage(port, 'verify', 90, 'Verified', unit.id);
      unit = this.options.db.setStatus(unit.id, 'verified', { imageSha256: sha256 });

      stage = 'record';
      this.stage(port, 'record', 92, 'Recorded', unit.id);
      await session.hardReset();
      await session.close();
      session = undefined;

      stage = 'label';
      this.stage(port, 'label', 95, 'Making the label', unit.id);
      const label = await this.writeLabel(unit);
      unit = this.options.db.setStatus(unit.id, this.options.labelCompletes === 'done' ? 'done' : 'label-pending');

      this.setState(port, { kind: 'done', unitId: unit.id });
      this.shift.units++;
      const summary = unitSummary(unit);
      this.emit({ type: 'stage', port, unitId: unit.id, stage: 'done', percent: 100, message: 'Done' });
      this.emit({ type: 'done', port, unit: summary, reflashed: reserved.existing });
      this.emit({ type: 'counters', counters: this.counters() });
      return {
        kind: 'done',
        result: {
          unit: summary, port, setupCode: formatSetupCode(unit.setupCode), labelSvg: label.svg, labelPdfPath: label.pdfPath,
          reflashed: reserved.existing, timings: { totalMs: Date.now() - started, flashMs }, warnings: this.warnings(),
        },
      };
    } catch (err) {
      const failure = this.describeFailure(err, port);
      if (unit) this.options.db.setStatus(unit.id, 'failed', { failure: failure.message });
      this.shift.failures++;
      this.setState(port, { kind: 'failed', stage, unitId: unit?.id, code: failure.code, message: failure.message, nextStep: failure.nextStep });
      this.emit({ type: 'failure', port, unitId: unit?.id, stage, ...failure });
      this.emit({ type: 'counters', counters: this.counters() });
      return { kind: 'failed', port, unitId: unit?.id, stage, ...failure };
    } finally {
      this.aborts.delete(port);
      if (session) await session.close().catch(() => undefined);
    }
  }

  /** Same unit, same identity: the reserved identity is looked up by MAC again. */
  retry(port: string): Promise<ProvisionOutcome> {
    return this.provisionNext(port);
  }

  confirmReflash(port: string): Promise<ProvisionOutcome> {
    const state = this.portState(port);
    if (state.kind !== 'needs-confirmation') {
      return Promise.resolve({ kind: 'failed', port, stage: 'identity', code: 'nothing-to-confirm', message: 'No re-flash is waiting for confirmation on this port.', nextStep: 'Press Provision.' });
    }
    this.options.db.audit('reflash-confirmed', state.unitId);
    return this.provisionNext(port, { confirmReflash: true });
  }

  /** Declines a re-flash offer: the unit keeps what it has. */
  declineReflash(port: string): void {
    if (this.portState(port).kind === 'needs-confirmation') this.setState(port, { kind: 'idle' });
  }

  cancel(port: string): boolean {
    const a = this.aborts.get(port);
    a?.abort();
    return a !== undefined;
  }

  private reserve(mac: string, chip: string): { unit: UnitRecord; existing: boolean } {
    const p = this.profile.profile;
    const payloadFor = (code: string, id: string) => buildSetupPayload({ category: p.category, setupCode: code, setupId: id, flags: p.flags, productData: p.productData });
    const result = this.options.db.reserveIdentity({
      product: p.id,
      mac,
      chip,
      station: this.options.stationName,
      operator: this.options.operator,
      usePool: this.options.usePool ?? false,
      poolPayload: payloadFor,
      fresh: () => {
        const setupCode = generateSetupCode();
        const setupId = generateSetupId();
        const { salt, verifier } = generateSetupInfo(setupCode);
        return { setupCode, setupId, salt, verifier, payload: payloadFor(setupCode, setupId) };
      },
    });
    return result;
  }

  private warnings(): string[] {
    const ids = this.setupIdUsage();
    const out: string[] = [];
    if (ids.low) out.push(`${ids.used} of ${ids.space} setup IDs are in use for this product: IDs will start repeating (codes never do).`);
    if (this.options.usePool) {
      const left = this.options.db.poolRemaining(this.profile.profile.id);
      if (left < 50) out.push(`Only ${left} identities left in the pool: import the next batch manifest.`);
    }
    return out;
  }

  /** Setup IDs in use for this product, and whether the 36^4 space is running low (> 50 %). */
  setupIdUsage(): { used: number; space: number; low: boolean } {
    const used = this.options.db.countSetupIds(this.profile.profile.id);
    return { used, space: SETUP_ID_SPACE, low: used > SETUP_ID_SPACE / 2 };
  }

  private describeFailure(err: unknown, port: string): { code: string; message: string; nextStep: string } {
    if (err instanceof StationError) return { code: err.code, message: err.message, nextStep: err.nextStep };
    if (err instanceof FlashError) return { code: err.code, message: err.message, nextStep: nextStepFor(err.code) };
    const fe = toFlashError(err, { port });
    if (fe.code !== 'protocol') return { code: fe.code, message: fe.message, nextStep: nextStepFor(fe.code) };
    return { code: 'internal', message: (err as Error)?.message ?? String(err), nextStep: nextStepFor('internal') };
  }

  labelLayout(unit: UnitRecord): LabelLayout {
    const p = this.profile.profile;
    return layoutLabel(p.label, { setupPayload: unit.payload, setupCode: formatSetupCode(unit.setupCode), productName: p.productName, mac: unit.mac.toUpperCase() });
  }

  private async writeLabel(unit: UnitRecord): Promise<{ svg: string; pdfPath: string }> {
    const layout = this.labelLayout(unit);
    const svg = renderLabelSvg(layout);
    await mkdir(this.options.labelDir, { recursive: true });
    const pdfPath = join(this.options.labelDir, `${this.profile.profile.id}-${unit.setupId}-${unit.mac.replace(/:/g, '')}.pdf`);
    await writeFileAtomic(pdfPath, await renderLabelPdf(layout), 0o600);
    return { svg, pdfPath };
  }

  /** The label of a recorded unit (for "Print again"): its SVG, PDF path and code. */
  async labelFor(unitId: number): Promise<ProvisionResult> {
    const unit = this.options.db.getUnit(unitId);
    if (!unit) throw new StationError('unknown-unit', `Unit ${unitId} is not in the database.`, 'Search the history again.');
    if (unit.status === 'reserved' || unit.status === 'flashing' || unit.status === 'failed') {
      throw new StationError('not-verified', `Unit ${unit.mac} was never verified: no label may be printed for it.`, 'Provision the unit again.');
    }
    const label = await this.writeLabel(unit);
    return { unit: unitSummary(unit), port: '', setupCode: formatSetupCode(unit.setupCode), labelSvg: label.svg, labelPdfPath: label.pdfPath, reflashed: false, timings: { totalMs: 0, flashMs: 0 }, warnings: [] };
  }

  markLabelPrinted(unitId: number): void {
    const unit = this.options.db.markLabelPrinted(unitId);
    this.emit({ type: 'label', unitId: unit.id, status: 'printed' });
  }

  listUnits(filter: UnitFilter = {}) {
    return this.options.db.listUnits({ product: this.profile.profile.id, ...filter }).map(unitSummary);
  }

  getUnit(id: number) {
    const u = this.options.db.getUnit(id);
    return u ? unitSummary(u) : undefined;
  }

  /** Units left unfinished (a crash, a failure): they complete with their own identity when re-plugged. */
  incompleteUnits() {
    return this.options.db.incompleteUnits(this.profile.profile.id).map(unitSummary);
  }

  async exportManifest(path: string): Promise<void> {
    await writeFileAtomic(path, this.options.db.exportManifestCsv(this.profile.profile.id), 0o600);
  }
}
