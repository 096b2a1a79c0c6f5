// The per-port provisioning state machine as an explicit transition table. The pipeline
// (src-main/station/pipeline.ts) may only move along these edges; anything else is a bug and
// throws, so an identity can never reach "label" without having passed "verify" on the same run.
import { STAGES, type Stage } from './events.ts';

/** Stages that can fail (done cannot). */
export type WorkStage = Exclude<Stage, 'done'>;
export type FailedState = `failed-${WorkStage}`;

/**
 * Every state a port's pipeline can be in:
 * idle → detect → connect → identity → image → flash → verify → record → label → done,
 * `failed-<stage>` when that stage failed, `needs-confirmation` when the unit (same MAC) already
 * holds a completed identity and the operator has not yet agreed to re-flash it.
 */
export type PipelineState = 'idle' | Stage | FailedState | 'needs-confirmation';

export const WORK_STAGES = STAGES.filter((s): s is WorkStage => s !== 'done');

export function failedState(stage: WorkStage): FailedState {
  return `failed-${stage}`;
}

export function isFailedState(s: PipelineState): s is FailedState {
  return s.startsWith('failed-');
}

/** The stage a failed state belongs to ('failed-flash' → 'flash'). */
export function failedStage(s: FailedState): WorkStage {
  return s.slice('failed-'.length) as WorkStage;
}

function buildTable(): Readonly<Record<PipelineState, readonly PipelineState[]>> {
  const table = {} as Record<PipelineState, PipelineState[]>;
  // A new run (provision, retry, confirmed re-flash) always starts at detect.
  table.idle = ['detect'];
  table.done = ['detect', 'idle'];
  table['needs-confirmation'] = ['detect', 'idle'];
  STAGES.forEach((stage, i) => {
    if (stage === 'done') return;
    const next: PipelineState[] = [STAGES[i + 1]!, failedState(stage)];
    if (stage === 'identity') next.push('needs-confirmation');
    table[stage] = next;
    table[failedState(stage)] = ['detect', 'idle'];
  });
  return table;
}

/** Allowed transitions, from → to. */
export const PIPELINE_TRANSITIONS = buildTable();

export function canMove(from: PipelineState, to: PipelineState): boolean {
  return PIPELINE_TRANSITIONS[from].includes(to);
}

/** True while a run is in progress on the port (a second request must be refused). */
export function isBusy(s: PipelineState): boolean {
  return (STAGES as readonly string[]).includes(s) && s !== 'done';
}
