// The one model of a bench port: where its board is in the provisioning flow, what is known of the
// board and its unit, and how it failed. The Station (src-main/station/station.ts) owns one
// PortState per port and moves it only along PORT_TRANSITIONS; the app adds the slot and the
// renderer draws it as a tile. Nothing else keeps port state.
//
// Flow of one board:
//   empty → ready → detect → connect → identity → image → flash → verify → record → boot-check
//   → label → label-pending → printing → (awaiting-scan →) done
// (boot-check resets the unit into its firmware and, when the product asks, checks its boot log:
// a unit whose firmware does not boot right never reaches `label`)
// with `needs-confirmation` after identity when the MAC already holds a finished unit, `failed`
// from any work stage, `print-failed` / `scan-mismatch` while the label is not yet right, and
// `empty` whenever the board leaves (the slot then starts over: a new board is not provisioned).

/** Pipeline stages in order; a run moves forward only along this list. */
export const STAGES = ['detect', 'connect', 'identity', 'image', 'flash', 'verify', 'record', 'boot-check', 'label', 'done'] as const;
export type Stage = (typeof STAGES)[number];
/** Stages where work happens (and which can fail). */
export type WorkStage = Exclude<Stage, 'done'>;
export const WORK_STAGES: readonly WorkStage[] = STAGES.filter((s): s is WorkStage => s !== 'done');

/** Why a run (or a print, or a scan) failed, in operator words. Never contains a setup code. */
export interface Failure {
  stage: WorkStage;
  /** Machine-readable reason ('no-download-mode', 'verify-mismatch', 'printer' …). */
  code: string;
  /** What happened, in plain words. */
  message: string;
  /** What the operator should do now. */
  nextStep: string;
}

export type PortPhase =
  | 'empty'
  | 'ready'
  | WorkStage
  | 'needs-confirmation'
  | 'failed'
  | 'label-pending'
  | 'printing'
  | 'print-failed'
  | 'awaiting-scan'
  | 'scan-mismatch'
  | 'done';

/** What is known of the board on the port (from its USB descriptor or the bootloader). */
export interface BoardInfo {
  /** 'esp32', 'esp32s3' … or null until the chip answered. */
  chip: string | null;
  /** Lower-case colon form; null until known. */
  mac: string | null;
}

/** The unit (identity) the board on the port holds. */
export interface PortUnit {
  id: number;
  setupId: string;
  /** The unit's serial number (products with a serial scheme), else null. */
  serial: string | null;
  /** This run re-flashed a unit that was finished before. */
  reflashed: boolean;
}

export interface PortState {
  phase: PortPhase;
  /** Progress of the whole run, 0–100 (100 once verified). */
  percent: number;
  /** One line for the operator about the current phase. */
  message: string;
  board: BoardInfo | null;
  unit: PortUnit | null;
  /** Set in `failed`, `print-failed` and `scan-mismatch`. */
  failure: Failure | null;
  /** How the last label went out ("Printed on …", "Saved as PDF …"). */
  labelNote: string | null;
}

type Table = Readonly<Record<PortPhase, readonly PortPhase[]>>;

function buildTable(): Table {
  const t = {} as Record<PortPhase, PortPhase[]>;
  const start: PortPhase[] = ['detect'];
  t.empty = ['ready'];
  t.ready = [...start];
  WORK_STAGES.forEach((stage, i) => {
    const next = WORK_STAGES[i + 1];
    t[stage] = [...(next ? [next] : ['label-pending', 'done'] as PortPhase[]), 'failed'];
  });
  t.identity.push('needs-confirmation');
  t['needs-confirmation'] = [...start, 'ready'];
  t.failed = [...start];
  t['label-pending'] = ['printing', 'done', ...start];
  t.printing = ['awaiting-scan', 'done', 'print-failed'];
  t['print-failed'] = ['printing', ...start];
  t['awaiting-scan'] = ['done', 'scan-mismatch', 'printing', ...start];
  t['scan-mismatch'] = ['done', 'scan-mismatch', 'printing', ...start];
  t.done = ['printing', 'scan-mismatch', ...start];
  // A board may leave at any moment: the slot starts over.
  for (const phase of Object.keys(t) as PortPhase[]) if (phase !== 'empty') t[phase].push('empty');
  return t;
}

/** Allowed moves, from → to. Anything else is a bug (the Station throws). */
export const PORT_TRANSITIONS: Table = buildTable();

export function canMove(from: PortPhase, to: PortPhase): boolean {
  return PORT_TRANSITIONS[from].includes(to);
}

/** A run is in progress: a second request on the port is refused and the board must not be touched. */
export function isRunning(phase: PortPhase): phase is WorkStage {
  return (WORK_STAGES as readonly string[]).includes(phase);
}

/** The verified unit still lacks a label that went out right (amber on the tile). */
export function needsLabel(phase: PortPhase): boolean {
  return phase === 'label-pending' || phase === 'print-failed' || phase === 'awaiting-scan' || phase === 'scan-mismatch' || phase === 'printing';
}

export function emptyPortState(): PortState {
  return { phase: 'empty', percent: 0, message: 'No board', board: null, unit: null, failure: null, labelNote: null };
}

/** A freshly plugged board: nothing of an earlier board survives. */
export function readyPortState(board: BoardInfo | null): PortState {
  return { phase: 'ready', percent: 0, message: 'New board — not provisioned', board, unit: null, failure: null, labelNote: null };
}

/** Progress percent at the start of each stage (the flash stage fills 25–85 itself). */
export const STAGE_PERCENT: Readonly<Record<WorkStage, number>> = {
  detect: 0,
  connect: 5,
  identity: 15,
  image: 20,
  flash: 25,
  verify: 85,
  record: 90,
  'boot-check': 92,
  label: 97,
};
