// The lanes that build accessories: worker threads plus the coordinator's own thread.
//
// Why the coordinator computes too: a worker needs ~0.1 s to boot and then the SRP fixed-base
// table, which the coordinator loads from its cache file (or builds, ~0.2 s) and shares with it;
// the coordinator has everything loaded already and is otherwise idle. So with `lanes` = number of
// CPUs, the pool runs lanes − 1 worker threads (started in the background) and the coordinator's
// inline lane. The inline lane yields to the event loop between task groups, so worker messages and journal
// writes are never held up for long. Tasks are small groups of accessories (one message per
// accessory would cost more than the work). A worker holds up to WORKER_DEPTH groups: its next
// group is already there when it finishes one, even while the coordinator's thread is busy
// building and cannot answer its messages.
import { Worker } from 'node:worker_threads';
import type { FromWorker, UnitResult, UnitTask, WorkerInit } from './protocol.ts';
import { createUnitWriter, type UnitWriter } from './unit-writer.ts';
import { loadSrpTable } from './srp-table-cache.ts';

interface Job {
  id: number;
  units: UnitTask[];
  resolve(results: UnitResult[]): void;
  reject(err: Error): void;
}

interface WorkerLane {
  worker: Worker;
  ready: boolean;
  jobs: Map<number, Job>;
}

/** Groups a worker holds at once (one being built, the next ones waiting in its inbox). */
const WORKER_DEPTH = 3;

export class WorkerPoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerPoolError';
  }
}

export interface PoolOptions {
  /** Threads that build accessories, the coordinator's included (≥ 1). */
  lanes: number;
  /** Build on the coordinator's thread as well (default true). False = only worker threads. */
  inline?: boolean;
  /** The worker threads' script (see worker-script.ts); needed when there are worker threads. */
  script?: URL;
  /** Folder that keeps the SRP table between runs (see srp-table-cache.ts); none: built each time. */
  srpTableCache?: string;
}

export class UnitWorkerPool {
  private readonly queue: Job[] = [];
  private readonly workers: WorkerLane[] = [];
  private inlineBusy = false;
  private readonly inline: boolean;
  private inlineWriter: Promise<UnitWriter> | undefined;
  private nextId = 1;
  private failure: Error | undefined;
  private closed = false;
  /** Accessories built per lane kind (for reports and tests). */
  readonly counts = { inline: 0, workers: 0 };

  constructor(private readonly init: WorkerInit, options: PoolOptions) {
    const inline = options.inline ?? true;
    const workerCount = Math.max(inline ? options.lanes - 1 : options.lanes, 0);
    // Workers first: their start-up runs in parallel with the inline lane's (SRP table) work.
    if (workerCount > 0 && !options.script) throw new Error('UnitWorkerPool: worker threads need a script');
    for (let i = 0; i < workerCount; i++) this.startWorker(options.script!);
    // The threads boot while this one loads (or builds) the SRP table, which they then get too.
    const srpTable = init.fewUnits ? undefined : loadSrpTable(options.srpTableCache).bytes;
    if (workerCount > 0) {
      const workerInit: WorkerInit = srpTable ? { ...this.init, srpTable } : this.init;
      for (const lane of this.workers) lane.worker.postMessage(workerInit);
    }
    this.inline = inline;
  }

  get workerCount(): number {
    return this.workers.length;
  }

  /** Builds `units` on the next idle lane; resolves with their results in the same order. */
  run(units: UnitTask[]): Promise<UnitResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, units, resolve, reject });
      this.dispatch();
    });
  }

  /** Lanes that may hold a job at once (for the coordinator's back-pressure). */
  get lanes(): number {
    return this.workers.length + (this.inline ? 1 : 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private startWorker(script: URL): void {
    const lane: WorkerLane = { worker: new Worker(script), ready: false, jobs: new Map() };
    this.workers.push(lane);
    lane.worker.on('message', (msg: FromWorker) => this.onMessage(lane, msg));
    lane.worker.on('error', (err) => this.fail(new WorkerPoolError(`batch worker crashed: ${err.message}`)));
    lane.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new WorkerPoolError(`batch worker stopped unexpectedly (exit code ${code})`));
    });
  }

  private dispatch(): void {
    if (this.failure) return;
    for (const lane of this.workers) {
      while (lane.ready && lane.jobs.size < WORKER_DEPTH && this.queue.length > 0) {
        const job = this.queue.shift()!;
        lane.jobs.set(job.id, job);
        lane.worker.postMessage({ type: 'units', id: job.id, units: job.units });
      }
    }
    if (this.inline && !this.inlineBusy && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.inlineBusy = true;
      void this.runInline(job);
    }
  }

  private async runInline(job: Job): Promise<void> {
    try {
      // Let pending messages (worker results, journal I/O) through before blocking the thread.
      await new Promise((r) => setImmediate(r));
      this.inlineWriter ??= createUnitWriter(this.init);
      const writer = await this.inlineWriter;
      const results: UnitResult[] = [];
      for (const task of job.units) results.push(await writer.write(task));
      this.counts.inline += results.length;
      job.resolve(results);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      job.reject(this.failure!);
    } finally {
      this.inlineBusy = false;
      this.dispatch();
    }
  }

  private onMessage(lane: WorkerLane, msg: FromWorker): void {
    if (msg.type === 'ready') {
      lane.ready = true;
      this.dispatch();
      return;
    }
    const job = lane.jobs.get(msg.id);
    if (!job) return;
    lane.jobs.delete(msg.id);
    if (msg.type === 'done') {
      this.counts.workers += msg.results.length;
      job.resolve(msg.results);
    } else {
      this.fail(new WorkerPoolError(msg.message));
      job.reject(this.failure!);
    }
    this.dispatch();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const job of this.queue.splice(0)) job.reject(err);
    for (const lane of this.workers) {
      for (const job of lane.jobs.values()) job.reject(err);
      lane.jobs.clear();
    }
  }
}
