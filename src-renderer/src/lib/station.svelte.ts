// Reactive station state for all screens (Svelte 5 runes): the snapshot from main plus what the
// operator screen shows per port (progress, result with label, failure, re-flash question).
import type { AppEvent, AppSnapshot, LabelOutcome, ProvisionReply, ProvisionResult } from '../../../shared/ipc.ts';
import type { Stage } from '../../../shared/station/events.ts';
import { api, errorText } from './api.ts';

export interface PortProgress {
  stage: Stage;
  percent: number;
  message: string;
}

export interface PortFailure {
  stage: string;
  code: string;
  message: string;
  nextStep: string;
}

export interface PortConfirm {
  unitId: number;
  mac: string;
  setupId: string;
}

export type LabelState = { status: 'printing' } | { status: 'printed'; detail: string } | { status: 'failed'; message: string };

export interface PortView {
  busy: boolean;
  progress: PortProgress | null;
  result: ProvisionResult | null;
  label: LabelState | null;
  failure: PortFailure | null;
  confirm: PortConfirm | null;
}

function emptyView(): PortView {
  return { busy: false, progress: null, result: null, label: null, failure: null, confirm: null };
}

function labelDone(outcome: LabelOutcome): LabelState {
  return { status: 'printed', detail: outcome.status === 'printed' ? `Printed on ${outcome.printer}` : `Saved as PDF: ${outcome.path}` };
}

class StationState {
  snapshot = $state<AppSnapshot | null>(null);
  views = $state<Record<string, PortView>>({});
  selected = $state<string | null>(null);
  /** A message for the whole app (bridge missing, unexpected error). */
  notice = $state<string | null>(null);
  /** Verifiers checked so far by a running manifest import (Settings → Identity pool). */
  poolCheck = $state<{ done: number; total: number } | null>(null);

  view(port: string): PortView {
    return this.views[port] ?? emptyView();
  }

  private ensure(port: string): PortView {
    if (!this.views[port]) this.views[port] = emptyView();
    return this.views[port]!;
  }

  async start(): Promise<void> {
    try {
      api.onEvent((e) => this.onEvent(e));
      this.setSnapshot(await api.getSnapshot());
    } catch (err) {
      this.notice = errorText(err);
    }
  }

  setSnapshot(s: AppSnapshot): void {
    this.snapshot = s;
    const paths = s.ports.map((p) => p.path);
    if (!this.selected || !paths.includes(this.selected)) this.selected = paths[0] ?? null;
  }

  private onEvent(e: AppEvent): void {
    switch (e.type) {
      case 'snapshot':
        this.setSnapshot(e.snapshot);
        break;
      case 'counters':
        if (this.snapshot) this.snapshot.counters = e.counters;
        break;
      case 'stage': {
        const v = this.ensure(e.port);
        if (e.stage === 'detect') Object.assign(v, { result: null, label: null, failure: null, confirm: null });
        v.progress = { stage: e.stage, percent: e.percent, message: e.message };
        break;
      }
      case 'failure':
        this.ensure(e.port).failure = { stage: e.stage, code: e.code, message: e.message, nextStep: e.nextStep };
        break;
      case 'needs-confirmation':
        this.ensure(e.port).confirm = { unitId: e.unitId, mac: e.mac, setupId: e.setupId };
        break;
      case 'done': {
        // Auto-provisioned units have no pending call: fetch their label for the preview.
        const v = this.ensure(e.port);
        if (!v.busy) void this.loadLabel(e.port, e.unit.id);
        break;
      }
      case 'label':
        for (const v of Object.values(this.views)) {
          if (v.result?.unit.id !== e.unitId) continue;
          if (e.status === 'failed') v.label = { status: 'failed', message: e.message ?? 'The label was not printed.' };
        }
        break;
      case 'pool-import':
        this.poolCheck = { done: e.done, total: e.total };
        break;
      case 'ports':
        break;
    }
  }

  private async loadLabel(port: string, unitId: number): Promise<void> {
    try {
      const result = await api.getLabel(unitId);
      const v = this.ensure(port);
      v.result = result;
    } catch (err) {
      this.notice = errorText(err);
    }
  }

  private apply(port: string, reply: ProvisionReply): void {
    const v = this.ensure(port);
    if (reply.kind === 'done') {
      v.result = reply.result;
      v.failure = null;
      v.confirm = null;
      v.label = reply.label.status === 'failed' ? { status: 'failed', message: reply.label.message } : labelDone(reply.label);
    } else if (reply.kind === 'needs-confirmation') {
      v.confirm = { unitId: reply.unitId, mac: reply.mac, setupId: reply.setupId };
    } else {
      v.failure = { stage: reply.stage, code: reply.code, message: reply.message, nextStep: reply.nextStep };
    }
  }

  private async runOn(port: string, call: () => Promise<ProvisionReply>): Promise<void> {
    const v = this.ensure(port);
    if (v.busy) return;
    v.busy = true;
    Object.assign(v, { failure: null, confirm: null, result: null, label: null, progress: { stage: 'detect', percent: 0, message: 'Starting' } });
    try {
      this.apply(port, await call());
    } catch (err) {
      v.failure = { stage: 'detect', code: 'app', message: errorText(err), nextStep: 'Check the port and press Retry.' };
    } finally {
      v.busy = false;
    }
  }

  provision(port: string): Promise<void> {
    return this.runOn(port, () => api.provisionNext(port));
  }

  retry(port: string): Promise<void> {
    return this.runOn(port, () => api.retry(port));
  }

  confirmReflash(port: string): Promise<void> {
    return this.runOn(port, () => api.confirmReflash(port));
  }

  async declineReflash(port: string): Promise<void> {
    const v = this.ensure(port);
    v.confirm = null;
    v.progress = null;
    try {
      await api.declineReflash(port);
    } catch (err) {
      this.notice = errorText(err);
    }
  }

  async printAgain(port: string): Promise<void> {
    const v = this.ensure(port);
    const unitId = v.result?.unit.id;
    if (unitId === undefined) return;
    v.label = { status: 'printing' };
    try {
      v.label = labelDone(await api.printLabel(unitId));
    } catch (err) {
      v.label = { status: 'failed', message: errorText(err) };
    }
  }
}

export const station = new StationState();
