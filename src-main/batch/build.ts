// A batch's build phase: issues the identities in chunks — each chunk journaled and fsync'ed
// before any of its files exists — and has the worker lanes build and write the accessories,
// recording each finished one in the journal. Ctrl-C stops after the accessories in progress;
// any failure stops the run with every issued identity kept in the journal for --resume.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IdentityAllocator, IdentityExhaustedError, type IdentityKind } from '../../shared/batch/identities.ts';
import { identityRecord, type BatchSettings, type JournalDoneRecord, type JournalIdentityRecord, type JournalRunRecord } from '../../shared/batch/journal.ts';
import { fromHex } from '../../shared/batch/unit.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { NvsKeys } from '../../shared/nvs/encryption.ts';
import { generateNvsKeys } from '../../shared/nvs/keys.ts';
import { BatchError, type BatchOutput } from './errors.ts';
import { watchInterruption, type Interruption } from './interrupt.ts';
import type { JournalWriter } from './journal-file.ts';
import type { IdentityRegistry } from './manifest.ts';
import { unitDirs, unitFiles } from './names.ts';
import { workerInit, type Plan } from './plan.ts';
import { UnitWorkerPool } from './pool.ts';
import { Progress } from './progress.ts';
import type { UnitResult, UnitTask } from './protocol.ts';
import { pooledRandomBytes } from './random.ts';
import { serialSource } from './serials.ts';
import { defaultSrpTableCache } from './srp-table-cache.ts';
import { batchWorkerScript } from './worker-script.ts';

/** Identities issued (and fsync'ed) per journal write. */
const CHUNK = 128;
/** Up to this many accessories, verifiers are computed without the SRP table (cheaper then). */
const FEW_UNITS = 24;
/** Accessories per worker message. */
const TASK = 8;
/** A worker is useful from ~0.3 s into a run (boot + table copy): not for batches smaller than this. */
const UNITS_PER_EXTRA_LANE = 200;

export interface BuildJob {
  plan: Plan;
  run: JournalRunRecord;
  journal: JournalWriter;
  /** Issued identities by index (a resumed run's from its journal); new ones are added. */
  identities: Map<number, JournalIdentityRecord>;
  done: Map<number, JournalDoneRecord>;
  outdir: string;
  shownOutdir: string;
  jobs: number;
  registry: IdentityRegistry | undefined;
  io: BatchOutput;
  /** An accessory's file name (prefix + file id). */
  nameOf(rec: JournalIdentityRecord): string;
}

export interface BuildOutcome {
  results: Map<number, UnitResult>;
  /** Accessories built in this invocation. */
  built: number;
  lanes: { inline: number; workers: number; workerThreads: number };
  /** False when nothing was left to build (no worker lanes were started). */
  pooled: boolean;
  unitsMs: number;
}

/** Builds every accessory not done yet; throws BatchError 'stopped' or 'interrupted' (journal closed). */
export async function buildUnits(job: BuildJob): Promise<BuildOutcome> {
  const { settings } = job.plan;
  const issue = await identityIssuer(job);
  const results = new Map<number, UnitResult>();
  for (const d of job.done.values()) results.set(d.index, { index: d.index, verifierHex: d.verifier, payload: d.payload });
  const work = Array.from({ length: settings.count }, (_, i) => i).filter((i) => !job.done.has(i));
  const progress = new Progress(job.io, settings.count);
  progress.update(results.size);
  const t0 = performance.now();
  const interruption = watchInterruption(() => {
    progress.finish();
    job.io.stderr('Stopping once the accessories in progress are written (Ctrl-C again stops at once; --resume continues either way)…\n');
  });
  let pool: UnitWorkerPool | undefined;
  let built = 0;
  try {
    if (work.length > 0) {
      pool = await startPool(job, work.length);
      built = await buildAll({ job, pool, issue, results, progress, interruption }, work);
    }
  } catch (err) {
    progress.finish();
    await job.journal.close().catch(() => undefined);
    await pool?.close();
    throw stopped(err, results.size, job);
  } finally {
    interruption.dispose();
  }
  await pool?.close();
  progress.finish();
  if (interruption.signal) {
    await job.journal.close();
    const where = `${results.size} of ${settings.count} accessories are complete; every issued identity is in the journal`;
    throw new BatchError('interrupted', `batch interrupted (${interruption.signal}): ${where}. Continue with: factory-station batch --resume --outdir ${job.shownOutdir}`, interruption.exitCode);
  }
  const lanes = { inline: pool?.counts.inline ?? 0, workers: pool?.counts.workers ?? 0, workerThreads: pool?.workerCount ?? 0 };
  return { results, built, lanes, pooled: pool !== undefined, unitsMs: performance.now() - t0 };
}

function stopped(err: unknown, complete: number, job: BuildJob): BatchError {
  if (err instanceof IdentityExhaustedError) return new BatchError('stopped', `${err.message}; the batch stopped (resume with --resume once the cause is fixed)`);
  return new BatchError(
    'stopped',
    `batch stopped: ${(err as Error).message}\n${complete} of ${job.plan.settings.count} accessories are complete; every issued identity is in the journal. ` +
      `Fix the cause, then continue with: factory-station batch --resume --outdir ${job.shownOutdir}`,
  );
}

/** Issues the next identity for an index (unique against the journal, the registry and the files here). */
async function identityIssuer(job: BuildJob): Promise<(index: number) => JournalIdentityRecord> {
  const { settings } = job.plan;
  // A value is taken if the station database holds it or (names made from it) its files exist.
  const existing = listUnitFiles(job.outdir, settings);
  const nameKind = settings.fileid === 'setup_code' ? 'setupCode' : settings.fileid === 'setup_id' ? 'setupId' : undefined;
  const isTaken = (kind: IdentityKind, value: string): boolean => {
    if (job.registry?.isTaken(kind, value)) return true;
    if (kind !== nameKind) return false;
    const name = `${settings.prefix}-${kind === 'setupCode' ? formatSetupCode(value) : value}`;
    return unitFiles(name, settings).some((f) => existing.has(f));
  };
  const random = pooledRandomBytes();
  const allocator = new IdentityAllocator({ isTaken, random });
  for (const r of job.identities.values()) allocator.adopt(r);
  const serialFor = await serialSource(settings, job.run.runId, job.identities.size, job.registry);
  return (index) => {
    const identity = allocator.next(index);
    const serial = serialFor(index);
    if (serial !== undefined) identity.serial = serial;
    const rec = identityRecord(identity, settings.keygen ? keyBytes(generateNvsKeys(random)) : undefined);
    job.identities.set(index, rec);
    return rec;
  };
}

async function startPool(job: BuildJob, units: number): Promise<UnitWorkerPool> {
  const lanes = Math.max(1, Math.min(job.jobs, 1 + Math.floor(units / UNITS_PER_EXTRA_LANE)));
  const script = lanes > 1 ? (await batchWorkerScript()).url : undefined;
  const init = workerInit(job.plan, job.outdir, job.io.cwd);
  if (units <= FEW_UNITS) init.fewUnits = true;
  return new UnitWorkerPool(init, { lanes, srpTableCache: defaultSrpTableCache(), ...(script ? { script } : {}) });
}

interface Building {
  job: BuildJob;
  pool: UnitWorkerPool;
  issue: (index: number) => JournalIdentityRecord;
  results: Map<number, UnitResult>;
  progress: Progress;
  interruption: Interruption;
}

/** The chunked loop; returns how many accessories it built. */
async function buildAll(b: Building, work: number[]): Promise<number> {
  const { job, pool, interruption } = b;
  const count = { built: 0 };
  const inflight: Promise<void>[] = [];
  for (let k = 0; k < work.length && !interruption.signal; k += CHUNK) {
    const fresh: JournalIdentityRecord[] = [];
    const tasks = work.slice(k, k + CHUNK).map((index) => {
      let rec = job.identities.get(index);
      if (!rec) fresh.push((rec = b.issue(index)));
      return taskFor(job, index, rec);
    });
    // The identities exist from here on: durable before any of their files is written.
    if (fresh.length) await job.journal.appendDurable(fresh);
    for (let t = 0; t < tasks.length; t += TASK) inflight.push(buildGroup(b, tasks.slice(t, t + TASK), count));
    // Keep the lanes busy without issuing far ahead of them: a whole chunk stays queued, so
    // the next chunk's journal fsync runs while the lanes build this one.
    while (inflight.length > Math.max(4 * pool.lanes, CHUNK / TASK)) await inflight.shift();
    await job.journal.flush();
  }
  await Promise.all(inflight);
  return count.built;
}

function buildGroup(b: Building, group: UnitTask[], count: { built: number }): Promise<void> {
  const finished = b.pool.run(group).then((rs) => {
    for (const r of rs) {
      b.results.set(r.index, r);
      const rec = b.job.identities.get(r.index)!;
      b.job.journal.append({ type: 'done', index: r.index, name: b.job.nameOf(rec), verifier: r.verifierHex, payload: r.payload });
    }
    count.built += rs.length;
    if (!b.interruption.signal) b.progress.update(b.results.size);
  });
  // A failure is reported where the group is awaited (in order, in buildAll); until then it must
  // not count as an unhandled rejection, which would end the process with a trace.
  finished.catch(() => undefined);
  return finished;
}

function taskFor(job: BuildJob, index: number, rec: JournalIdentityRecord): UnitTask {
  const task: UnitTask = { index, name: job.nameOf(rec), setupCode: rec.setupCode, setupId: rec.setupId, salt: fromHex(rec.salt) };
  if (rec.nvsKey) task.nvsKey = fromHex(rec.nvsKey);
  if (rec.serial !== undefined) task.serial = rec.serial;
  const row = job.plan.values?.rows[index]!.fields;
  if (row) task.row = row;
  return task;
}

function keyBytes(keys: NvsKeys): Uint8Array {
  const out = new Uint8Array(64);
  out.set(keys.encryptionKey, 0);
  out.set(keys.tweakKey, 32);
  return out;
}

/** Accessory files already in the output folder (relative paths), listed once. */
function listUnitFiles(outdir: string, settings: BatchSettings): Set<string> {
  const out = new Set<string>();
  for (const dir of unitDirs(settings)) {
    let names: string[] = [];
    try {
      names = readdirSync(join(outdir, dir));
    } catch {
      // missing folder: nothing there
    }
    for (const n of names) out.add(`${dir}/${n}`);
  }
  return out;
}
