// The app's provisioning runs: at most one run per port at a time, started by the operator (Enter,
// Retry, the re-flash answer, "Provision all ready") or by a plug with auto-provision on. A done
// unit's label is delivered before the run ends; every run ends with fresh counters and a
// snapshot. Kept apart from the app core so that "is a unit being provisioned?" has one answer
// (`busy`) that the database switch, the pool import and product changes all ask.
import type { LabelOutcome, ProvisionReply } from '../../shared/ipc.ts';
import type { ProvisionResult } from '../../shared/station/events.ts';
import type { Station, ProvisionOutcome } from '../station/station.ts';
import type { Bench } from './bench.ts';
import { AppError } from './errors.ts';

export interface RunsHost {
  readonly bench: Bench;
  /** The active product's station; throws the app's "no product" error when there is none. */
  requireStation(): Station;
  /** The station when a product is active, else null (auto-provision stays quiet without one). */
  activeStation(): Station | null;
  autoProvision(): boolean;
  deliver(result: ProvisionResult): Promise<LabelOutcome>;
  /** Counters and pool re-read, then a snapshot to the windows. */
  settled(): Promise<void>;
}

export class ProvisionRuns {
  private readonly running = new Set<string>();

  constructor(private readonly host: RunsHost) {}

  /** True while a run is going on any port (or the station itself is mid-unit). */
  get busy(): boolean {
    return this.running.size > 0 || (this.host.activeStation()?.busy ?? false);
  }

  provisionNext(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.provisionNext(port));
  }

  confirmReflash(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.confirmReflash(port));
  }

  retry(port: string): Promise<ProvisionReply> {
    return this.run(port, (s) => s.retry(port));
  }

  /** Every plugged slot holding a new board starts now; returns their ports. */
  provisionAllReady(): string[] {
    const station = this.host.requireStation();
    const ports = this.host.bench
      .tiles((p) => station.portState(p))
      .filter((t) => t.plugged && t.state.phase === 'ready' && !this.running.has(t.path))
      .map((t) => t.path);
    for (const port of ports) void this.provisionNext(port).catch(() => undefined);
    return ports;
  }

  /** A board was plugged in: with auto-provision on, it starts as if the operator pressed Enter. */
  plugged(port: string): void {
    if (!this.host.autoProvision() || !this.host.activeStation() || this.running.has(port)) return;
    // Outcomes reach the UI through the station's events, exactly as for a manual run.
    void this.provisionNext(port).catch(() => undefined);
  }

  private async run(port: string, step: (s: Station) => Promise<ProvisionOutcome>): Promise<ProvisionReply> {
    const station = this.host.requireStation();
    if (!this.host.bench.isPlugged(port)) throw new AppError('not-found', `No board is plugged in on ${port}.`);
    if (this.running.has(port)) throw new AppError('busy', `A unit on ${port} is already being provisioned.`);
    this.running.add(port);
    try {
      const outcome = await step(station);
      if (outcome.kind !== 'done') {
        // A demo fault lasts one attempt: the operator then follows the next step.
        if (outcome.kind === 'failed') this.host.bench.demoChip(port)?.clearFaults();
        await this.host.settled();
        return outcome;
      }
      const label = await this.host.deliver(outcome.result).catch((err: unknown) => ({ status: 'failed' as const, message: err instanceof Error ? err.message : String(err) }));
      await this.host.settled();
      return { kind: 'done', result: outcome.result, label };
    } finally {
      this.running.delete(port);
    }
  }
}
