// The provisioning state machine and the events the station streams to the UI and the CLI.
// Events never carry a setup code: only a successful result (for the label preview) does.
import type { PipelineState } from './states.ts';

/** Pipeline stages in order; a unit moves forward only along this list. */
export const STAGES = ['detect', 'connect', 'identity', 'image', 'flash', 'verify', 'record', 'label', 'done'] as const;
export type Stage = (typeof STAGES)[number];

/** Where a port's pipeline can be; failures are named by the stage that failed. */
export type PortState =
  | { kind: 'idle' }
  | { kind: 'running'; stage: Stage; unitId?: number }
  | { kind: 'needs-confirmation'; unitId: number; mac: string; setupId: string }
  | { kind: 'failed'; stage: Stage; unitId?: number; code: string; message: string; nextStep: string }
  | { kind: 'done'; unitId: number };

/**
 * Coarse transitions of the UI's view of a port (from → to kinds). The pipeline itself moves along
 * the finer stage-by-stage table in ./states.ts (PIPELINE_TRANSITIONS), which the Station enforces.
 */
export const TRANSITIONS: Readonly<Record<PortState['kind'], readonly PortState['kind'][]>> = {
  idle: ['running'],
  running: ['running', 'needs-confirmation', 'failed', 'done'],
  'needs-confirmation': ['running', 'idle'],
  failed: ['running', 'idle'],
  done: ['running', 'idle'],
};

export function canTransition(from: PortState['kind'], to: PortState['kind']): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Unit status as recorded in the production database. */
export type UnitStatus = 'reserved' | 'flashing' | 'verified' | 'label-pending' | 'done' | 'failed';

/** A unit without its secrets. No payload either: the X-HM:// payload encodes the setup code. */
export interface UnitSummary {
  id: number;
  product: string;
  mac: string;
  chip: string | null;
  setupId: string;
  status: UnitStatus;
  failure: string | null;
  attempts: number;
  station: string;
  operator: string;
  createdAt: string;
  updatedAt: string;
  labelPrintCount: number;
}

/** How units are searched (history screen, CLI, database). */
export interface UnitQuery {
  /** Full or partial MAC (any separators). */
  mac?: string;
  setupId?: string;
  status?: UnitStatus;
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

export type StationEvent =
  | { type: 'stage'; port: string; unitId?: number; stage: Stage; percent: number; message: string }
  | { type: 'needs-confirmation'; port: string; unitId: number; mac: string; setupId: string }
  | { type: 'failure'; port: string; unitId?: number; stage: Stage; code: string; message: string; nextStep: string }
  | { type: 'done'; port: string; unit: UnitSummary; reflashed: boolean }
  | { type: 'label'; unitId: number; status: 'printed' | 'pending' | 'failed'; message?: string }
  | { type: 'ports'; ports: StationPort[] }
  | { type: 'counters'; counters: ShiftCounters }
  /** Every move of a port's state machine (shared/station/states.ts), for logs and tests. */
  | { type: 'state'; port: string; state: PipelineState; unitId?: number }
  /** A port appeared or went away (reported to Station.portChanged by the port watcher). */
  | { type: 'port'; port: string; change: 'attached' | 'detached' };

export interface StationPort {
  path: string;
  description: string;
  virtual: boolean;
  state: PortState;
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
