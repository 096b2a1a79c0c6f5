// One provisioning run on one port, driven through the transition table of
// shared/station/states.ts (every move is checked; an illegal move is a bug and throws).
//
// The order is what keeps the promise "no identity issued twice, lost, or printed for the wrong
// unit": the MAC is read from the connected chip first; the identity for that MAC is reserved in a
// database transaction before anything is written; the write is refused if the chip on the line is
// not that MAC; the label is produced only after the flash was verified on that same connection.
// A failure leaves the unit's identity in place (status 'failed'), so a retry writes the same one.
import type { ProvisionResult, Stage, StationEvent } from '../../shared/station/events.ts';
import { canMove, failedState, isBusy, type PipelineState, type WorkStage } from '../../shared/station/states.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { FlashError, checkPlanAgainstDevice, openFlashSession, toFlashError, writePlan, type FlashProgress, type FlashSession } from '../flash/index.ts';
import type { VirtualChipRegistry } from '../virtual-chip/index.ts';
import { unitSummary, type ProductionDb, type UnitRecord } from './db.ts';
import { buildUnitNvsImage, buildUnitPlan, type ProductAssets } from './image.ts';
import { writeUnitLabel } from './labels.ts';
import { stationPortOpener } from './port-opener.ts';
import type { LoadedProfile } from './profile-file.ts';

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
  'wrong-unit': 'Plug in the unit you meant to retry, or press Provision for the unit now on the port.',
  cancelled: 'Press Provision to start again.',
};

export function nextStepFor(code: string): string {
  return NEXT_STEP[code] ?? 'Press Retry; if it keeps failing, call the line engineer.';
}

/** Operator-readable code, message and next step for anything a run can throw. */
export function describeFailure(err: unknown, port: string): { code: string; message: string; nextStep: string } {
  if (err instanceof StationError) return { code: err.code, message: err.message, nextStep: err.nextStep };
  if (err instanceof FlashError) return { code: err.code, message: err.message, nextStep: nextStepFor(err.code) };
  const fe = toFlashError(err, { port });
  if (fe.code !== 'protocol') return { code: fe.code, message: fe.message, nextStep: nextStepFor(fe.code) };
  return { code: 'internal', message: (err as Error)?.message ?? String(err), nextStep: nextStepFor('internal') };
}

/** What a run needs from the Station (one instance per run). */
export interface PipelineContext {
  port: string;
  profile: LoadedProfile;
  assets: () => Promise<ProductAssets>;
  db: ProductionDb;
  /** Reserves (in one DB transaction) the identity for this MAC, or returns the one it already has. */
  reserve: (mac: string, chip: string) => { unit: UnitRecord; existing: boolean };
  labelDir: string;
  /** Status once the label files exist: 'label-pending' (app prints, then markLabelPrinted) or 'done' (CLI). */
  labelCompletes: 'pending' | 'done';
  virtualRegistry?: VirtualChipRegistry;
  baud?: number;
  verify: 'md5' | 'readback';
  signal: AbortSignal;
  emit: (e: StationEvent) => void;
  /** Retrying a specific unit: refuse to write if a different MAC is on the port. */
  expectUnitId?: number;
  warnings: () => string[];
}

export class PortPipeline {
  private unit: UnitRecord | undefined;

  constructor(
    private readonly ctx: PipelineContext,
    /** Where the port's state machine currently is (a run starts from idle, done, failed-* or needs-confirmation). */
    public state: PipelineState,
  ) {}

  get unitId(): number | undefined {
    return this.unit?.id;
  }

  private move(to: PipelineState): void {
    if (!canMove(this.state, to)) throw new Error(`internal: ${this.state} → ${to} is not a pipeline transition`);
    this.state = to;
    // Synchronous listeners see each state before its work starts (the CLI persists the virtual
    // chip on 'record', i.e. after verification and before the database says 'verified').
    this.ctx.emit({ type: 'state', port: this.ctx.port, state: to, unitId: this.unit?.id });
  }

  private enter(stage: Stage, percent: number, message: string): void {
    this.move(stage);
    this.ctx.emit({ type: 'stage', port: this.ctx.port, unitId: this.unit?.id, stage, percent, message });
  }

  async run(opts: { confirmReflash?: boolean } = {}): Promise<ProvisionOutcome> {
    const { ctx } = this;
    const port = ctx.port;
    const started = Date.now();
    let session: FlashSession | undefined;
    let flashMs = 0;
    try {
      this.enter('detect', 0, `Looking for a unit on ${port}`);
      const assets = await ctx.assets();
      const onProgress = (p: FlashProgress) => this.onFlashProgress(p);

      this.enter('connect', 5, 'Connecting to the bootloader');
      session = await openFlashSession(port, { openPort: stationPortOpener(ctx.virtualRegistry), baud: ctx.baud, signal: ctx.signal, onProgress });
      const info = session.info;

      this.enter('identity', 15, `Unit ${info.mac} (${info.chipName})`);
      const expectedChip = ctx.profile.profile.expectedChip;
      if (expectedChip && info.chip !== expectedChip) {
        // Refused before reserving: a unit of the wrong product spends no identity.
        throw new StationError('wrong-chip', `The unit on ${port} is an ${info.chipName}, but this product (${ctx.profile.profile.productName}) uses ${expectedChip}.`, nextStepFor('wrong-chip'));
      }
      if (ctx.expectUnitId !== undefined) {
        // Checked before reserving, so a different unit on the port spends no identity.
        const expected = ctx.db.getUnit(ctx.expectUnitId);
        if (!expected || expected.mac !== info.mac.toLowerCase()) {
          throw new StationError('wrong-unit', `The unit on ${port} (${info.mac}) is not the unit being retried${expected ? ` (${expected.mac})` : ''}.`, nextStepFor('wrong-unit'));
        }
      }
      const reserved = ctx.reserve(info.mac, info.chip);
      this.unit = reserved.unit;
      // 'verified' without a label is unfinished (e.g. a crash before the label): it completes without asking.
      const finished = reserved.unit.status === 'label-pending' || reserved.unit.status === 'done';
      if (reserved.existing && finished && !opts.confirmReflash) {
        const u = reserved.unit;
        this.move('needs-confirmation');
        ctx.emit({ type: 'needs-confirmation', port, unitId: u.id, mac: u.mac, setupId: u.setupId });
        ctx.db.audit('reflash-offered', u.id);
        return { kind: 'needs-confirmation', port, unitId: u.id, mac: u.mac, setupId: u.setupId };
      }
      if (reserved.existing && finished) ctx.db.audit('reflash-confirmed', reserved.unit.id);

      this.enter('image', 20, 'Building the factory NVS image');
      const { image, sha256 } = buildUnitNvsImage(ctx.profile, assets, this.unit);
      const plan = await buildUnitPlan(ctx.profile, assets, image);
      checkPlanAgainstDevice(plan, info, info.mac); // too-small flash etc.: refused before a byte is written

      this.enter('flash', 25, 'Writing flash');
      this.unit = ctx.db.setStatus(this.unit.id, 'flashing', { incrementAttempts: true, chip: String(info.chip), failure: null });
      const flashStart = Date.now();
      try {
        await writePlan(session, plan, { verify: ctx.verify, expectMac: info.mac, signal: ctx.signal, onProgress });
      } catch (err) {
        // A mismatch is a failed verification, whichever check (MD5 or read-back) found it.
        if (err instanceof FlashError && err.code === 'verify-mismatch' && this.state === 'flash') this.move('verify');
        throw err;
      }
      flashMs = Date.now() - flashStart;
      if (this.state === 'flash') this.move('verify');
      ctx.emit({ type: 'stage', port, unitId: this.unit.id, stage: 'verify', percent: 90, message: ctx.verify === 'readback' ? 'Verified (MD5 and read-back)' : 'Verified (MD5)' });

      this.enter('record', 92, 'Recording the unit');
      this.unit = ctx.db.setStatus(this.unit.id, 'verified', { imageSha256: sha256 });
      const resetWarning = await this.finishDevice(session);
      session = undefined;

      this.enter('label', 95, 'Making the label');
      const label = await writeUnitLabel(ctx.profile.profile, this.unit, ctx.labelDir);
      this.unit = ctx.db.setStatus(this.unit.id, ctx.labelCompletes === 'done' ? 'done' : 'label-pending');

      this.enter('done', 100, 'Done');
      const summary = unitSummary(this.unit);
      ctx.emit({ type: 'done', port, unit: summary, reflashed: reserved.existing });
      return {
        kind: 'done',
        result: {
          unit: summary,
          port,
          setupCode: formatSetupCode(this.unit.setupCode),
          payload: this.unit.payload,
          labelSvg: label.svg,
          labelPdfPath: label.pdfPath,
          reflashed: reserved.existing,
          timings: { totalMs: Date.now() - started, flashMs },
          warnings: [...ctx.warnings(), ...(resetWarning ? [resetWarning] : [])],
        },
      };
    } catch (err) {
      return this.fail(err);
    } finally {
      if (session) await session.close().catch(() => undefined);
    }
  }

  private onFlashProgress(p: FlashProgress): void {
    const { port } = this.ctx;
    if (p.stage === 'readback' && this.state === 'flash') this.move('verify');
    if ((p.stage === 'write' || p.stage === 'verify') && this.state === 'flash') {
      this.ctx.emit({ type: 'stage', port, unitId: this.unit?.id, stage: 'flash', percent: 25 + Math.round(p.percent * 0.6), message: p.message ?? (p.region ? `Writing ${p.region}` : 'Writing') });
    } else if (p.stage === 'readback' && this.state === 'verify') {
      this.ctx.emit({ type: 'stage', port, unitId: this.unit?.id, stage: 'verify', percent: 85 + Math.round(p.percent * 0.05), message: 'Reading the NVS back' });
    }
  }

  /** Boots the verified unit into its firmware. A failed reset does not undo a verified write. */
  private async finishDevice(session: FlashSession): Promise<string | undefined> {
    try {
      await session.hardReset();
      return undefined;
    } catch {
      return 'The unit did not reset after flashing: power-cycle it before testing.';
    } finally {
      await session.close().catch(() => undefined);
    }
  }

  private fail(err: unknown): ProvisionOutcome {
    const { ctx } = this;
    const failure = describeFailure(err, ctx.port);
    // Failures are named by the stage that was running (a failure before the first stage counts as detect).
    const stage: WorkStage = isBusy(this.state) ? (this.state as WorkStage) : 'detect';
    if (this.unit) {
      try {
        this.unit = ctx.db.setStatus(this.unit.id, 'failed', { failure: failure.message });
      } catch {
        // The database itself failing is reported below; the unit stays as last recorded.
      }
    }
    if (canMove(this.state, failedState(stage))) this.move(failedState(stage));
    ctx.emit({ type: 'failure', port: ctx.port, unitId: this.unit?.id, stage, ...failure });
    return { kind: 'failed', port: ctx.port, unitId: this.unit?.id, stage, ...failure };
  }
}
