// What happens to a verified unit's label: drawn again for a reprint (with the label settings kept
// with the unit, so it shows its own product whatever is active now), printing, printed or failed
// (amber until a print succeeds), and scan-back — a scanned label is accepted only on the tile of
// the unit it belongs to. Each step is recorded as an attempt and moves the unit's tile, if its
// board is still on the bench.
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { ProvisionResult, StationEvent } from '../../shared/station/events.ts';
import { canMove, type PortPhase } from '../../shared/station/port-state.ts';
import { payloadFromScan, scanVerdict } from '../../shared/station/scan.ts';
import { unitSummary, type Registry, type UnitRecord } from '../registry/index.ts';
import { writeUnitLabel } from './labels.ts';
import { labelProfileOf, StationError } from './pipeline.ts';
import type { PortBoard } from './port-board.ts';
import type { LoadedProfile } from './profile-file.ts';

export interface LabelFlowContext {
  /** The station's registry (it can change between units). */
  db: () => Registry;
  ports: PortBoard;
  profile: () => LoadedProfile;
  stationName: string;
  labelDir: string;
  slotOf: (port: string) => number | null;
  emit: (e: StationEvent) => void;
}

export class LabelFlow {
  constructor(private readonly ctx: LabelFlowContext) {}

  /** The label of a recorded unit (for "Print again" and reprints). Refused for unverified units. */
  async labelFor(unitId: number): Promise<ProvisionResult> {
    const { ports } = this.ctx;
    const db = this.ctx.db();
    const unit = await db.getUnit(unitId);
    if (!unit) throw new StationError('unknown-unit', `Unit ${unitId} is not in the database.`, 'Search the history again.');
    if (unit.status === 'reserved' || unit.status === 'flashing' || unit.status === 'failed') {
      throw new StationError('not-verified', `Unit ${unit.mac} was never verified: no label may be printed for it.`, 'Provision the unit again.');
    }
    const active = this.ctx.profile();
    const profile = unit.labelProfile ?? (unit.product === active.profile.id ? labelProfileOf(active) : null);
    if (!profile) throw new StationError('unknown-product', `Unit ${unit.id} belongs to product ${unit.product}, whose label settings are not recorded.`, `Activate the ${unit.product} profile to reprint it.`);
    const label = await writeUnitLabel(profile, unit, this.ctx.labelDir);
    return {
      unit: unitSummary(unit), port: ports.lastPortOf(unit.id) ?? '', setupCode: formatSetupCode(unit.setupCode), payload: unit.payload,
      labelSvg: label.svg, labelPdfPath: label.pdfPath, reflashed: false, timings: { totalMs: 0, flashMs: 0 }, warnings: [],
    };
  }

  private async attempt(unit: UnitRecord, kind: 'print' | 'scan', outcome: 'ok' | 'failed', port: string | null, extra: { code?: string; message?: string } = {}): Promise<void> {
    await this.ctx.db().attempts.record({
      station: this.ctx.stationName, product: unit.product, port, slot: port ? (this.ctx.slotOf(port) ?? unit.slot) : unit.slot,
      unitId: unit.id, mac: unit.mac, kind, outcome, stage: outcome === 'failed' ? 'label' : null, ...extra,
    });
  }

  /** A print of the unit's label has started (its tile shows "Printing"). */
  printing(unitId: number): void {
    const port = this.ctx.ports.portOfUnit(unitId);
    if (port && canMove(this.ctx.ports.state(port).phase, 'printing')) this.ctx.ports.move(port, 'printing', { message: 'Printing the label', failure: null });
  }

  /** The label went out (printed or saved): the unit is done, or waits for its scan (scan-back products). */
  async printed(unitId: number, note: string): Promise<void> {
    const { ports } = this.ctx;
    const db = this.ctx.db();
    const before = await db.getUnit(unitId);
    const awaitScan = before?.labelProfile?.scanBack ?? this.ctx.profile().profile.scanBack ?? false;
    const unit = await db.markLabelPrinted(unitId, { awaitScan });
    const port = ports.portOfUnit(unitId) ?? null;
    await this.attempt(unit, 'print', 'ok', port, { message: note });
    if (port && ports.state(port).phase === 'printing') {
      const waiting = unit.status === 'label-printed';
      ports.move(port, waiting ? 'awaiting-scan' : 'done', { message: waiting ? 'Scan the label to verify it' : 'Label printed', labelNote: note });
    }
    this.ctx.emit({ type: 'label', unitId: unit.id, status: 'printed', message: note });
  }

  /** The print failed: the unit stays label-pending (amber) until a print succeeds. */
  async failed(unitId: number, message: string): Promise<void> {
    const { ports } = this.ctx;
    const db = this.ctx.db();
    const unit = await db.getUnit(unitId);
    if (!unit) return;
    const port = ports.portOfUnit(unitId) ?? null;
    await this.attempt(unit, 'print', 'failed', port, { code: 'printer', message });
    if (port && ports.state(port).phase === 'printing') {
      ports.move(port, 'print-failed', { message: 'Label not printed', failure: { stage: 'label', code: 'printer', message, nextStep: 'Fix the printer, then press Print again.' } });
    }
    this.ctx.emit({ type: 'label', unitId, status: 'failed', message });
  }

  /**
   * A label was scanned on `port`'s tile. Accepted only when it is the label of the unit on that
   * board; anything else leaves the tile in a full-tile error until the right label is scanned.
   */
  async scan(port: string, text: string): Promise<{ ok: boolean; message: string }> {
    const { ports } = this.ctx;
    const db = this.ctx.db();
    const state = ports.state(port);
    const scannable: PortPhase[] = ['awaiting-scan', 'scan-mismatch', 'done'];
    if (!state.unit || !scannable.includes(state.phase)) {
      const why = state.unit ? 'its label has not been printed yet' : 'no provisioned board is on it';
      return { ok: false, message: `Nothing to check on this slot: ${why}.` };
    }
    const payload = payloadFromScan(text);
    const labelUnit = payload ? await db.findByPayload(payload) : undefined;
    const tileUnit = (await db.getUnit(state.unit.id))!;
    const refusal = scanVerdict(payload, labelUnit, tileUnit, this.ctx.slotOf(port));
    if (refusal) {
      await this.attempt(tileUnit, 'scan', 'failed', port, { code: refusal.code, message: refusal.message });
      ports.move(port, 'scan-mismatch', { message: 'Wrong label', failure: { stage: 'label', ...refusal } });
      this.ctx.emit({ type: 'label', unitId: tileUnit.id, status: 'mismatch', message: refusal.message });
      return { ok: false, message: refusal.message };
    }
    const unit = await db.markLabelVerified(tileUnit.id);
    await this.attempt(unit, 'scan', 'ok', port);
    if (state.phase !== 'done') ports.move(port, 'done', { message: 'Label verified', failure: null, labelNote: 'Label verified by scan' });
    else ports.patch(port, { labelNote: 'Label verified by scan' });
    this.ctx.emit({ type: 'label', unitId: unit.id, status: 'verified' });
    return { ok: true, message: `Label verified for unit ${unit.id}.` };
  }
}
