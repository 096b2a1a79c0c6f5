// One provisioning run on one port. Every step is a move of the port's model
// (shared/station/port-state.ts) that the Station checks against PORT_TRANSITIONS: an illegal move
// is a bug and throws, so an identity can never reach "label" without "verify" on the same run.
//
// The order is what keeps the promise "no identity issued twice, lost, or printed for the wrong
// unit": the MAC is read from the connected chip first; the identity for that MAC is reserved in a
// database transaction before anything is written; the write is refused if the chip on the line is
// not that MAC; the label is produced only after the flash was verified on that same connection
// and the unit booted its firmware (the boot check, when the product has one: its log is kept).
// A failure leaves the unit's identity in place (status 'failed'), so a retry writes the same one.
import type { ProvisionResult, StationEvent } from '../../shared/station/events.ts';
import { STAGE_PERCENT, isRunning, type Failure, type PortPhase, type PortState, type WorkStage } from '../../shared/station/port-state.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { FlashError, checkPlanAgainstDevice, openFlashSession, toFlashError, writePlan, type DeviceInfo, type FlashProgress, type FlashSession, type PortOpener } from '../flash/index.ts';
import type { VirtualChipRegistry } from '../virtual-chip/index.ts';
import { RegistrySchemaError, RegistryUnavailableError, unitSummary, type Registry, type UnitLabelProfile, type UnitRecord } from '../registry/index.ts';
import { buildUnitNvsImage, buildUnitPlan, type ProductAssets } from './image.ts';
import { bootUnit } from './boot-check.ts';
import { resolveBootCheck } from '../../shared/station/boot-check.ts';
import { writeUnitLabel } from './labels.ts';
import { stationPortOpener } from './port-opener.ts';
import type { LoadedProfile } from './profile-file.ts';

export type ProvisionOutcome =
  | { kind: 'done'; result: ProvisionResult }
  | { kind: 'needs-confirmation'; port: string; unitId: number; mac: string; setupId: string }
  | ({ kind: 'failed'; port: string; unitId?: number } & Failure);

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
  'not-a-port': 'Pick the serial port of the board (factory-station ports lists them).',
  'port-permission': 'Give this user access to serial ports (Linux: the dialout group), log in again, then press Retry.',
  unplugged: 'Plug the unit back in and press Retry: it keeps the identity it was given.',
  timeout: 'Re-plug the unit and press Retry; if it keeps failing, try another cable or port.',
  'verify-mismatch': 'Press Retry to write again; if it fails twice, set the unit aside (flash fault).',
  'wrong-chip': 'This unit is not the chip this product uses: check the profile or the unit.',
  'flash-too-small': 'This unit has too little flash for this firmware: set it aside.',
  'wrong-unit': 'Plug in the unit you meant to retry, or press Provision for the unit now on the port.',
  cancelled: 'Press Provision to start again.',
  'boot-crash': 'Set the unit aside and call the line engineer (the boot log is in History). Once the firmware is fixed, press Retry: the unit keeps its identity.',
  'boot-missing': 'Check that the unit runs the right firmware, then press Retry (it keeps its identity); the boot log is in History.',
  'boot-silent': 'The unit printed nothing after the reset: check its power and serial console, then press Retry.',
  'boot-mismatch': 'The firmware did not read this unit\'s factory data: set the unit aside and call the line engineer.',
  'boot-no-reset': 'Re-plug the unit and press Retry; if it keeps failing, check the reset wiring.',
  'registry-offline': 'The station keeps trying the database by itself; if this stays, call the line engineer. Then press Retry: the unit keeps any identity it was given.',
  'registry-schema': 'Call the line engineer: the database must be migrated (factory-station db migrate) or the station updated.',
};

export function nextStepFor(code: string): string {
  return NEXT_STEP[code] ?? 'Press Retry; if it keeps failing, call the line engineer.';
}

/** Operator-readable code, message and next step for anything a run can throw. */
export function describeFailure(err: unknown, port: string): Omit<Failure, 'stage'> {
  if (err instanceof StationError) return { code: err.code, message: err.message, nextStep: err.nextStep };
  if (err instanceof FlashError) return { code: err.code, message: err.message, nextStep: nextStepFor(err.code) };
  // The registry's messages name where it is (never its credentials) and why it did not answer.
  if (err instanceof RegistryUnavailableError) return { code: 'registry-offline', message: `${err.message} Nothing unreserved was written to the unit.`, nextStep: nextStepFor('registry-offline') };
  if (err instanceof RegistrySchemaError) return { code: 'registry-schema', message: err.message, nextStep: nextStepFor('registry-schema') };
  const fe = toFlashError(err, { port });
  if (fe.code !== 'protocol') return { code: fe.code, message: fe.message, nextStep: nextStepFor(fe.code) };
  return { code: 'internal', message: (err as Error)?.message ?? String(err), nextStep: nextStepFor('internal') };
}

/** What a run needs from the Station (one instance per run). */
export interface PipelineContext {
  port: string;
  /** Bench slot of the port (on the label and in the records), when the station numbers its ports. */
  slot: number | null;
  profile: LoadedProfile;
  assets: () => Promise<ProductAssets>;
  db: Registry;
  /** Reserves (in one DB transaction) the identity for this MAC, or returns the one it already has. */
  reserve: (mac: string, chip: string) => Promise<{ unit: UnitRecord; existing: boolean }>;
  labelDir: string;
  /** Status once the label files exist: 'label-pending' (app prints, then markLabelPrinted) or 'done' (CLI). */
  labelCompletes: 'pending' | 'done';
  virtualRegistry?: VirtualChipRegistry;
  /** Opens ports (tests and the demo reach virtual chips through it); default: native serialport. */
  openPort?: PortOpener;
  baud?: number;
  verify: 'md5' | 'readback';
  signal: AbortSignal;
  /** Moves the port's model (checked by the Station); returns the model after the move. */
  move: (phase: PortPhase, patch?: Partial<PortState>) => void;
  /** Updates the model without changing phase (progress, board info). */
  patch: (patch: Partial<PortState>) => void;
  emit: (e: StationEvent) => void;
  /** Retrying a specific unit: refuse to write if a different MAC is on the port. */
  expectUnitId?: number;
  warnings: () => Promise<string[]>;
}

/** The label settings kept with a unit (reprints use them, whatever product is active later). */
export function labelProfileOf(loaded: LoadedProfile): UnitLabelProfile {
  const p = loaded.profile;
  return { productName: p.productName, label: p.label, ...(p.printer ? { printer: p.printer } : {}), ...(p.scanBack ? { scanBack: true } : {}) };
}

export class PortPipeline {
  private unit: UnitRecord | undefined;
  private phase: PortPhase;
  /** What the firmware printed at the boot check of this run (kept with the attempt), if it ran. */
  bootLog: string | null = null;

  constructor(
    private readonly ctx: PipelineContext,
    /** Where the port's model is when the run starts (ready, done, failed …). */
    from: PortPhase,
  ) {
    this.phase = from;
  }

  get unitId(): number | undefined {
    return this.unit?.id;
  }

  private enter(stage: WorkStage, message: string, patch: Partial<PortState> = {}): void {
    this.ctx.move(stage, { percent: STAGE_PERCENT[stage], message, failure: null, ...patch });
    this.phase = stage;
    this.ctx.emit({ type: 'stage', port: this.ctx.port, unitId: this.unit?.id, stage, percent: STAGE_PERCENT[stage], message });
  }

  private progress(stage: WorkStage, percent: number, message: string): void {
    this.ctx.patch({ percent, message });
    this.ctx.emit({ type: 'stage', port: this.ctx.port, unitId: this.unit?.id, stage, percent, message });
  }

  async run(opts: { confirmReflash?: boolean } = {}): Promise<ProvisionOutcome> {
    const { ctx } = this;
    const started = Date.now();
    let session: FlashSession | undefined;
    try {
      this.enter('detect', `Looking for a unit on ${ctx.port}`, { unit: null, labelNote: null });
      const assets = await ctx.assets();
      this.enter('connect', 'Connecting to the bootloader');
      const onProgress = (p: FlashProgress) => this.onFlashProgress(p);
      session = await openFlashSession(ctx.port, { openPort: stationPortOpener(ctx.virtualRegistry, ctx.openPort), baud: ctx.baud, signal: ctx.signal, onProgress });
      const info = session.info;
      this.enter('identity', `Unit ${info.mac} (${info.chipName})`, { board: { chip: String(info.chip), mac: info.mac.toLowerCase() } });
      await this.checkUnit(info);
      const reserved = await this.reserveFor(info, opts.confirmReflash ?? false);
      if ('kind' in reserved) return reserved;
      const { sha256, flashMs } = await this.flash(session, info, assets);
      this.enter('record', 'Recording the unit');
      this.unit = await ctx.db.setStatus(this.unit!.id, 'verified', { imageSha256: sha256 });
      const open = session;
      session = undefined;
      const resetWarning = await this.bootCheck(open);
      return await this.finish(reserved.reflashed, started, flashMs, resetWarning);
    } catch (err) {
      return await this.fail(err);
    } finally {
      if (session) await session.close().catch(() => undefined);
    }
  }

  /** Refusals before reserving: a unit of the wrong product, or not the unit being retried, spends no identity. */
  private async checkUnit(info: DeviceInfo): Promise<void> {
    const { ctx } = this;
    const expectedChip = ctx.profile.profile.expectedChip;
    if (expectedChip && info.chip !== expectedChip) {
      throw new StationError('wrong-chip', `The unit on ${ctx.port} is an ${info.chipName}, but this product (${ctx.profile.profile.productName}) uses ${expectedChip}.`, nextStepFor('wrong-chip'));
    }
    if (ctx.expectUnitId === undefined) return;
    const expected = await ctx.db.getUnit(ctx.expectUnitId);
    if (!expected || expected.mac !== info.mac.toLowerCase()) {
      throw new StationError('wrong-unit', `The unit on ${ctx.port} (${info.mac}) is not the unit being retried${expected ? ` (${expected.mac})` : ''}.`, nextStepFor('wrong-unit'));
    }
  }

  /**
   * The identity for this MAC (reserved now, or the one it has). A unit provisioned before is
   * re-flashed only once the operator confirms: until then the run ends with the question.
   */
  private async reserveFor(info: DeviceInfo, confirmed: boolean): Promise<ProvisionOutcome | { reflashed: boolean }> {
    const { ctx } = this;
    const reserved = await ctx.reserve(info.mac, info.chip);
    const u = (this.unit = reserved.unit);
    const unitRef = { id: u.id, setupId: u.setupId, serial: u.serial, reflashed: false };
    ctx.patch({ unit: unitRef });
    // 'verified' without a label is unfinished (e.g. a crash before the label): it completes without asking.
    const finished = u.status === 'label-pending' || u.status === 'label-printed' || u.status === 'done';
    if (!reserved.existing || !finished) return { reflashed: false };
    if (!confirmed) {
      ctx.move('needs-confirmation', { message: 'Provisioned before: re-flash it?' });
      this.phase = 'needs-confirmation';
      ctx.emit({ type: 'needs-confirmation', port: ctx.port, unitId: u.id, mac: u.mac, setupId: u.setupId });
      await ctx.db.audit('reflash-offered', u.id);
      return { kind: 'needs-confirmation', port: ctx.port, unitId: u.id, mac: u.mac, setupId: u.setupId };
    }
    await ctx.db.audit('reflash-confirmed', u.id);
    ctx.patch({ unit: { ...unitRef, reflashed: true } });
    return { reflashed: true };
  }

  /** Builds the unit's image, writes it on this connection (refused if another MAC answers) and verifies it. */
  private async flash(session: FlashSession, info: DeviceInfo, assets: ProductAssets): Promise<{ sha256: string; flashMs: number }> {
    const { ctx } = this;
    this.enter('image', 'Building the factory NVS image');
    const { image, sha256 } = buildUnitNvsImage(ctx.profile, assets, this.unit!);
    const plan = await buildUnitPlan(ctx.profile, assets, image);
    checkPlanAgainstDevice(plan, info, info.mac); // too-small flash etc.: refused before a byte is written

    this.enter('flash', 'Writing flash');
    this.unit = await ctx.db.setStatus(this.unit!.id, 'flashing', { incrementAttempts: true, chip: String(info.chip), failure: null, slot: ctx.slot, labelProfile: labelProfileOf(ctx.profile) });
    const flashStart = Date.now();
    try {
      await writePlan(session, plan, { verify: ctx.verify, expectMac: info.mac, signal: ctx.signal, onProgress: (p) => this.onFlashProgress(p) });
    } catch (err) {
      // A mismatch is a failed verification, whichever check (MD5 or read-back) found it.
      if (err instanceof FlashError && err.code === 'verify-mismatch' && this.phase === 'flash') this.enter('verify', 'Verifying');
      throw err;
    }
    const flashMs = Date.now() - flashStart;
    if (this.phase === 'flash') this.enter('verify', 'Verifying');
    this.progress('verify', 90, ctx.verify === 'readback' ? 'Verified (MD5 and read-back)' : 'Verified (MD5)');
    return { sha256, flashMs };
  }

  /** The label files, then 'label-pending' (the app prints) or 'done' (the CLI: the file is the label). */
  private async finish(reflashed: boolean, started: number, flashMs: number, resetWarning: string | undefined): Promise<ProvisionOutcome> {
    const { ctx } = this;
    this.enter('label', 'Making the label');
    const label = await writeUnitLabel(labelProfileOf(ctx.profile), this.unit!, ctx.labelDir);
    let unit = (this.unit = await ctx.db.setStatus(this.unit!.id, 'label-pending'));
    // The CLI's deliverable is the label file itself: written = printed (the count says so in history).
    if (ctx.labelCompletes === 'done') unit = this.unit = await ctx.db.markLabelPrinted(unit.id);
    const phase = ctx.labelCompletes === 'done' ? 'done' : 'label-pending';
    ctx.move(phase, { percent: 100, message: phase === 'done' ? 'Done' : 'Label to print' });
    this.phase = phase;
    ctx.emit({ type: 'stage', port: ctx.port, unitId: unit.id, stage: 'done', percent: 100, message: 'Done' });
    const summary = unitSummary(unit);
    ctx.emit({ type: 'done', port: ctx.port, unit: summary, reflashed });
    const warnings = [...(await ctx.warnings().catch(() => [])), ...(resetWarning ? [resetWarning] : [])];
    const result = { unit: summary, port: ctx.port, setupCode: formatSetupCode(unit.setupCode), payload: unit.payload, labelSvg: label.svg, labelPdfPath: label.pdfPath, reflashed, timings: { totalMs: Date.now() - started, flashMs }, warnings };
    return { kind: 'done', result };
  }

  private onFlashProgress(p: FlashProgress): void {
    if (p.stage === 'readback' && this.phase === 'flash') this.enter('verify', 'Reading the NVS back');
    if ((p.stage === 'write' || p.stage === 'verify') && this.phase === 'flash') {
      this.progress('flash', 25 + Math.round(p.percent * 0.6), p.message ?? (p.region ? `Writing ${p.region}` : 'Writing'));
    } else if (p.stage === 'readback' && this.phase === 'verify') {
      this.progress('verify', 85 + Math.round(p.percent * 0.05), 'Reading the NVS back');
    }
  }

  /**
   * Boots the verified unit into its firmware and, when the product asks, checks its boot log: a
   * unit whose firmware does not boot right fails here, before any label (identity kept). Without
   * a boot check a failed reset does not undo a verified write: it is a warning.
   */
  private async bootCheck(session: FlashSession): Promise<string | undefined> {
    const { ctx } = this;
    const p = ctx.profile.profile;
    const settings = p.bootCheck ? resolveBootCheck(p.bootCheck, p.serial?.nvs.key) : undefined;
    this.enter('boot-check', settings ? 'Starting the firmware: checking its boot log' : 'Starting the firmware');
    try {
      const unit = this.unit!;
      const run = await bootUnit(session, settings, { setupId: unit.setupId, serial: unit.serial, setupCode: unit.setupCode }, ctx.signal, (m) => this.progress('boot-check', STAGE_PERCENT['boot-check'], m));
      this.bootLog = run.log;
      if (run.verdict && !run.verdict.ok) throw new StationError(run.verdict.code, run.verdict.message, nextStepFor(run.verdict.code));
      return run.warning;
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  private async fail(err: unknown): Promise<ProvisionOutcome> {
    const { ctx } = this;
    // Failures are named by the stage that was running (a failure before the first stage counts as detect).
    const stage: WorkStage = isRunning(this.phase) ? this.phase : 'detect';
    const failure: Failure = { stage, ...describeFailure(err, ctx.port) };
    if (this.unit) {
      try {
        this.unit = await ctx.db.setStatus(this.unit.id, 'failed', { failure: failure.message });
      } catch {
        // The database itself failing is reported below; the unit stays as last recorded.
      }
    }
    if (isRunning(this.phase)) ctx.move('failed', { failure, message: failure.message });
    this.phase = 'failed';
    ctx.emit({ type: 'failure', port: ctx.port, unitId: this.unit?.id, ...failure });
    return { kind: 'failed', port: ctx.port, unitId: this.unit?.id, ...failure };
  }
}
