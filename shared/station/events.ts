// The events the station streams to the UI and the CLI, and the unit records they mention.
// Events never carry a setup code: only a successful result (for the label preview) does.
import type { Failure, PortState, Stage } from './port-state.ts';

export { STAGES, type Failure, type PortState, type Stage } from './port-state.ts';

/** Unit status as recorded in the production database. */
export type UnitStatus = 'reserved' | 'flashing' | 'verified' | 'label-pending' | 'label-printed' | 'done' | 'failed';
export const UNIT_STATUSES: readonly UnitStatus[] = ['reserved', 'flashing', 'verified', 'label-pending', 'label-printed', 'done', 'failed'];

/** A unit without its secrets. No payload either: the X-HM:// payload encodes the setup code. */
export interface UnitSummary {
  id: number;
  product: string;
  mac: string;
  chip: string | null;
  setupId: string;
  /** The unit's serial number (products with a serial scheme; units from before: null). */
  serial: string | null;
  status: UnitStatus;
  failure: string | null;
  attempts: number;
  station: string;
  operator: string;
  createdAt: string;
  updatedAt: string;
  labelPrintCount: number;
  /** Bench slot of the unit's last flash (null: not flashed in a numbered slot). */
  slot: number | null;
  /** When the label's QR was scanned back on this unit's tile (scan-back products), else null. */
  labelVerifiedAt: string | null;
}

/** How units are searched (history screen, CLI, database). */
export interface UnitQuery {
  /** Full or partial MAC in any common form (colons, dashes, none; any case). */
  mac?: string;
  /** A scanned label: the X-HM:// payload (finds its unit; a label of another product finds none). */
  payload?: string;
  setupId?: string;
  /** Exact serial number. */
  serial?: string;
  status?: UnitStatus;
  /** Only this station's units (a line's registry holds every station's); absent: the whole line. */
  station?: string;
  /** ISO date or time, inclusive. */
  from?: string;
  to?: string;
  limit?: number;
}

export interface ShiftCounters {
  units: number;
  failures: number;
  unitsPerHour: number;
  since: string;
}

/** The line's view: per station, units made and failed runs over a period, and hour by hour. */
export interface LineCounts {
  from: string;
  to: string;
  stations: { station: string; units: number; failures: number; unitsPerHour: number; failuresPerHour: number }[];
  /** UTC hours ('YYYY-MM-DDTHH'), oldest first. */
  hours: { station: string; hour: string; units: number; failures: number }[];
}

/** Whether the production database answers (a line's server can stop or become unreachable). */
export interface RegistryState {
  online: boolean;
  message: string;
}

export type StationEvent =
  | { type: 'stage'; port: string; unitId?: number; stage: Stage; percent: number; message: string }
  | { type: 'needs-confirmation'; port: string; unitId: number; mac: string; setupId: string }
  | ({ type: 'failure'; port: string; unitId?: number } & Failure)
  | { type: 'done'; port: string; unit: UnitSummary; reflashed: boolean }
  | { type: 'label'; unitId: number; status: 'printed' | 'failed' | 'verified' | 'mismatch'; message?: string }
  /** The production database stopped answering, or answers again (one message each time). */
  | { type: 'registry'; state: RegistryState }
  /** Every change of a port's model (shared/station/port-state.ts): the UI is a pure view of these. */
  | { type: 'port-state'; port: string; state: PortState };

/** What was tried on the bench: one row per run, print and scan (history of attempts). */
export type AttemptKind = 'provision' | 'retry' | 'reflash' | 'print' | 'scan';
export const ATTEMPT_KINDS: readonly AttemptKind[] = ['provision', 'retry', 'reflash', 'print', 'scan'];
export type AttemptOutcome = 'ok' | 'failed' | 'needs-confirmation';
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = ['ok', 'failed', 'needs-confirmation'];

export interface AttemptSummary {
  id: number;
  at: string;
  station: string;
  product: string;
  port: string | null;
  slot: number | null;
  unitId: number | null;
  mac: string | null;
  setupId: string | null;
  kind: AttemptKind;
  outcome: AttemptOutcome;
  /** Where a failed attempt stopped, and why (operator words, never a setup code). */
  stage: string | null;
  code: string | null;
  message: string | null;
  durationMs: number | null;
  /** What the firmware printed after the reset (runs that reached the boot check), setup code removed. */
  bootLog: string | null;
}

export interface AttemptQuery {
  /** Full or partial MAC in any common form (colons, dashes, none; any case). */
  mac?: string;
  setupId?: string;
  unitId?: number;
  /** Only this station's attempts; absent: the whole line. */
  station?: string;
  outcome?: AttemptOutcome;
  kind?: AttemptKind;
  from?: string;
  to?: string;
  limit?: number;
}


/** What a successful provision (or a reprint) hands the label preview. */
export interface ProvisionResult {
  unit: UnitSummary;
  port: string;
  setupCode: string;
  /** The X-HM:// setup payload (the label's QR; it encodes the setup code). */
  payload: string;
  labelSvg: string;
  labelPdfPath: string | null;
  reflashed: boolean;
  timings: { totalMs: number; flashMs: number };
  /** Things the operator or engineer should know, e.g. the setup-ID space running low. */
  warnings: string[];
}
