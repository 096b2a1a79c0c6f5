// `factory-station batch`: the coordinator. Validates everything first (nothing is written for
// bad input), then issues identities in chunks — journaled and fsync'ed before their files exist —
// while worker threads build and write the accessories' files; finally writes the master files,
// labels and the station manifest, and marks the journal complete. `--resume` replays the journal.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensureDirSync, removeStaleTempFiles, writeFileAtomic, writeFileAtomicFrom } from '../fs/index.ts';
import { BatchError, type BatchOutput } from './errors.ts';
import { BatchInputError } from '../../shared/batch/errors.ts';
import { GENERATED_COLUMNS, SERIAL_COLUMN, masterConfigText, type BatchConfig, type BatchValues } from '../../shared/batch/custom-data.ts';
import { checkConfigLeavesSerial, loadSerialScheme, serialSample, serialSource } from './serials.ts';
import { IdentityAllocator, IdentityExhaustedError, type IdentityKind } from '../../shared/batch/identities.ts';
import {
  identityFromRecord,
  identityRecord,
  JOURNAL_FORMAT,
  JOURNAL_VERSION,
  type BatchSettings,
  type JournalDoneRecord,
  type JournalIdentityRecord,
  type JournalRunRecord,
} from '../../shared/batch/journal.ts';
import { pythonCsvRow } from '../../shared/batch/python-csv.ts';
import { fromHex, generatedFields, unitFileId, type BatchUnitSpec } from '../../shared/batch/unit.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { layoutLabel, type LabelLayout, type LabelSpec } from '../../shared/label/layout.ts';
import type { NvsKeys } from '../../shared/nvs/encryption.ts';
import { generateNvsKeys } from '../../shared/nvs/keys.ts';
import { sampleFileId, unitDirs, unitFiles, unitNameProblem } from './names.ts';
import { checkValuesBuild, loadConfig, loadKeyFile, loadValues, readTextInput } from './inputs.ts';
import { findJournals, JournalWriter, type FoundJournal } from './journal-file.ts';
import { batchLabelSpec, checkBatchLabels, renderSheet } from './labels.ts';
import { openIdentityRegistry, writeBatchManifest, type IdentityRegistry } from './manifest.ts';
import { UnitWorkerPool } from './pool.ts';
import { batchWorkerScript } from './worker-script.ts';
import { defaultSrpTableCache } from './srp-table-cache.ts';
import { Progress } from './progress.ts';
import { watchInterruption } from './interrupt.ts';
import { pooledRandomBytes } from './random.ts';
import type { UnitResult, UnitTask, WorkerInit } from './protocol.ts';

/** Identities issued (and fsync'ed) per journal write. */
const CHUNK = 128;
/** Up to this many accessories, verifiers are computed without the SRP table (cheaper then). */
const FEW_UNITS = 24;
/** Accessories per worker message. */
const TASK = 8;
const SECRET_MODE = 0o600;

/** A new run's settings, as the command line gives them (cli/batch-args.ts parses them). */
export interface GenerateArgs {
  outdir: string;
  conf?: string;
  values?: string;
  prefix: string;
  fileid: string;
  category: number;
  count?: number;
  productData?: string;
  size: number;
  version: 1 | 2;
  encrypt: boolean;
  keygen: boolean;
  keyfile?: string;
  labels: BatchSettings['labels']['mode'];
  labelFormat: 'pdf' | 'svg';
  paper: 'A4' | 'Letter';
  labelSize: string;
  payloadFlags: { ip: boolean; ble: boolean; wac: boolean };
  db?: string;
  /** A product profile: issue serial numbers from its product's counter (in --db) by its scheme. */
  serials?: string;
  jobs: number;
}

export interface BatchSummary {
  runId: string;
  outdir: string;
  units: number;
  /** Accessories built in this invocation (fewer than `units` after a resume). */
  built: number;
  journal: string;
  files: string[];
  /** Where the time went (ms): issuing + building accessories, then master files/labels/manifest. */
  timings: { unitsMs: number; finishMs: number };
  /** Accessories built on the coordinator's thread and on worker threads; worker threads used. */
  lanes: { inline: number; workers: number; workerThreads: number };
}

/** Everything derived from the settings (the same for a fresh run and a resumed one). */
interface Plan {
  settings: BatchSettings;
  config?: BatchConfig;
  values?: BatchValues;
  spec: BatchUnitSpec;
  keys?: NvsKeys;
  labelSpec?: LabelSpec;
}

export async function runNewBatch(args: GenerateArgs, io: BatchOutput): Promise<BatchSummary> {
  const outdir = resolve(io.cwd, args.outdir);
  checkOutdir(outdir, args.outdir);
  const unfinished = (await findJournalsOrFail(outdir)).filter((j) => !j.state.complete);
  if (unfinished.length) {
    const j = unfinished[0]!;
    throw new BatchError(
      'state',
      `${join(args.outdir, j.name)}: an unfinished batch (${j.state.done.size} of ${j.state.run.settings.count} accessories done) is in this folder; ` +
        `continue it with: factory-station batch --resume --outdir ${args.outdir}`,
    );
  }
  const settings = settingsFromArgs(args, io);
  const plan = makePlan(settings, io.cwd, true);
  const names = pickRunNames(outdir, settings);
  const fileidFromValues = plan.values?.header.includes(settings.fileid) ?? false;
  const sample = sampleFileId(settings.fileid);
  const prefixProblem = sample === undefined ? undefined : unitNameProblem(settings.prefix, sample, settings);
  if (prefixProblem) throw new BatchError('input', `--prefix ${shortText(settings.prefix)}: ${prefixProblem}`);
  if (fileidFromValues) {
    const column = plan.values!.header.indexOf(settings.fileid);
    for (const row of plan.values!.rows) {
      const fileId = row.fields[column]!;
      const problem = unitNameProblem(settings.prefix, fileId, settings);
      if (problem) throw new BatchError('input', `${plan.values!.file}, line ${row.line}, column \`${settings.fileid}\`: ${problem} (with --prefix ${shortText(settings.prefix)})`);
      const clash = unitFiles(`${settings.prefix}-${fileId}`, settings).find((f) => existsSync(join(outdir, f)));
      if (clash) throw new BatchError('input', `${join(args.outdir, clash)} already exists (values file line ${row.line}); choose another --outdir or --prefix`);
    }
  }
  const registry = args.db ? await openIdentityRegistry(args.db, io.cwd) : undefined;
  try {
    for (const dir of unitDirs(settings)) ensureDirSync(join(outdir, dir));
    const run: JournalRunRecord = {
      type: 'run',
      format: JOURNAL_FORMAT,
      version: JOURNAL_VERSION,
      runId: names.runId,
      createdAt: new Date().toISOString(),
      settings,
      masters: names.masters,
    };
    const journal = await JournalWriter.create(join(outdir, names.journal), run);
    return await execute(plan, run, journal, new Map(), new Map(), { outdir, shownOutdir: args.outdir, jobs: args.jobs, registry }, io);
  } finally {
    await registry?.close();
  }
}

export async function resumeBatch(args: { outdir: string; db?: string; jobs: number }, io: BatchOutput): Promise<BatchSummary> {
  const outdir = resolve(io.cwd, args.outdir);
  const unfinished = (await findJournalsOrFail(outdir)).filter((j) => !j.state.complete);
  if (unfinished.length === 0) throw new BatchError('state', `${args.outdir}: no unfinished batch to resume (no incomplete homekit_batch_*.journal)`);
  if (unfinished.length > 1) throw new BatchError('state', `${args.outdir}: ${unfinished.length} unfinished batches (${unfinished.map((j) => j.name).join(', ')}); move all but one away`);
  const found = unfinished[0]!;
  const { run } = found.state;
  const plan = makePlan(run.settings, io.cwd, false);
  // A killed run leaves temp files (the values master's holds every setup code): this run owns the
  // folder now (its journal is the one unfinished batch here), so all of them go.
  for (const dir of unitDirs(run.settings)) {
    ensureDirSync(join(outdir, dir));
    removeStaleTempFiles(join(outdir, dir), { all: true });
  }
  removeStaleTempFiles(outdir, { all: true });
  const registry = args.db ? await openIdentityRegistry(args.db, io.cwd) : undefined;
  try {
    const journal = await JournalWriter.reopen(found.path, found.validBytes);
    io.stdout(`Resuming ${found.name}: ${found.state.done.size} of ${run.settings.count} accessories done, ${found.state.identities.size} identities issued\n`);
    return await execute(plan, run, journal, found.state.identities, found.state.done, { outdir, shownOutdir: args.outdir, jobs: args.jobs, registry }, io);
  } finally {
    await registry?.close();
  }
}

interface ExecuteContext {
  outdir: string;
  shownOutdir: string;
  jobs: number;
  registry: IdentityRegistry | undefined;
}

async function execute(
  plan: Plan,
  run: JournalRunRecord,
  journal: JournalWriter,
  identities: Map<number, JournalIdentityRecord>,
  done: Map<number, JournalDoneRecord>,
  ctx: ExecuteContext,
  io: BatchOutput,
): Promise<BatchSummary> {
  const { settings } = plan;
  const { outdir } = ctx;
  const header = plan.values?.header;
  const rowOf = (index: number) => plan.values?.rows[index]!.fields;
  const nameOf = (r: { setupCode: string; setupId: string; index: number }) => `${settings.prefix}-${unitFileId(settings.fileid, r, header, rowOf(r.index))}`;

  // A value is taken if the station database holds it or (names made from it) its files exist.
  const existing = listUnitFiles(outdir, settings);
  const nameKind = settings.fileid === 'setup_code' ? 'setupCode' : settings.fileid === 'setup_id' ? 'setupId' : undefined;
  const isTaken = (kind: IdentityKind, value: string): boolean => {
    if (ctx.registry?.isTaken(kind, value)) return true;
    if (kind !== nameKind) return false;
    const name = `${settings.prefix}-${kind === 'setupCode' ? formatSetupCode(value) : value}`;
    return unitFiles(name, settings).some((f) => existing.has(f));
  };
  const random = pooledRandomBytes();
  const allocator = new IdentityAllocator({ isTaken, random });
  for (const r of identities.values()) allocator.adopt(r);
  const serialFor = await serialSource(settings, run.runId, identities.size, ctx.registry);

  const results = new Map<number, UnitResult>();
  for (const d of done.values()) results.set(d.index, { index: d.index, verifierHex: d.verifier, payload: d.payload });
  const work = Array.from({ length: settings.count }, (_, i) => i).filter((i) => !done.has(i));
  const progress = new Progress(io, settings.count);
  progress.update(results.size);

  let pool: UnitWorkerPool | undefined;
  let built = 0;
  const t0 = performance.now();
  const interruption = watchInterruption(() => {
    progress.finish();
    io.stderr('Stopping once the accessories in progress are written (Ctrl-C again stops at once; --resume continues either way)…\n');
  });
  try {
    if (work.length > 0) {
      const lanes = lanesFor(work.length, ctx.jobs);
      const script = lanes > 1 ? (await batchWorkerScript()).url : undefined;
      const init = workerInit(plan, outdir, io.cwd);
      if (work.length <= FEW_UNITS) init.fewUnits = true;
      pool = new UnitWorkerPool(init, { lanes, srpTableCache: defaultSrpTableCache(), ...(script ? { script } : {}) });
      const inflight: Promise<void>[] = [];
      for (let k = 0; k < work.length && !interruption.signal; k += CHUNK) {
        const fresh: JournalIdentityRecord[] = [];
        const tasks: UnitTask[] = [];
        for (const index of work.slice(k, k + CHUNK)) {
          let rec = identities.get(index);
          if (!rec) {
            const identity = allocator.next(index);
            const serial = serialFor(index);
            if (serial !== undefined) identity.serial = serial;
            rec = identityRecord(identity, settings.keygen ? keyBytes(generateNvsKeys(random)) : undefined);
            identities.set(index, rec);
            fresh.push(rec);
          }
          const task: UnitTask = { index, name: nameOf(rec), setupCode: rec.setupCode, setupId: rec.setupId, salt: fromHex(rec.salt) };
          if (rec.nvsKey) task.nvsKey = fromHex(rec.nvsKey);
          if (rec.serial !== undefined) task.serial = rec.serial;
          const row = rowOf(index);
          if (row) task.row = row;
          tasks.push(task);
        }
        // The identities exist from here on: durable before any of their files is written.
        if (fresh.length) await journal.appendDurable(fresh);
        for (let t = 0; t < tasks.length; t += TASK) {
          const group = tasks.slice(t, t + TASK);
          const finished = pool.run(group).then((rs) => {
            for (const r of rs) {
              results.set(r.index, r);
              const rec = identities.get(r.index)!;
              journal.append({ type: 'done', index: r.index, name: nameOf(rec), verifier: r.verifierHex, payload: r.payload });
            }
            built += rs.length;
            if (!interruption.signal) progress.update(results.size);
          });
          // A failure is reported where the group is awaited (in order, below); until then it
          // must not count as an unhandled rejection, which would end the process with a trace.
          finished.catch(() => undefined);
          inflight.push(finished);
        }
        // Keep the lanes busy without issuing far ahead of them: a whole chunk stays queued, so
        // the next chunk's journal fsync runs while the lanes build this one.
        while (inflight.length > Math.max(4 * pool.lanes, CHUNK / TASK)) await inflight.shift();
        await journal.flush();
      }
      await Promise.all(inflight);
    }
  } catch (err) {
    progress.finish();
    await journal.close().catch(() => undefined);
    await pool?.close();
    if (err instanceof IdentityExhaustedError) throw new BatchError('stopped', `${err.message}; the batch stopped (resume with --resume once the cause is fixed)`);
    throw new BatchError(
      'stopped',
      `batch stopped: ${(err as Error).message}\n${results.size} of ${settings.count} accessories are complete; every issued identity is in the journal. ` +
        `Fix the cause, then continue with: factory-station batch --resume --outdir ${ctx.shownOutdir}`,
    );
  } finally {
    interruption.dispose();
  }
  await pool?.close();
  progress.finish();
  if (interruption.signal) {
    await journal.close();
    throw new BatchError(
      'interrupted',
      `batch interrupted (${interruption.signal}): ${results.size} of ${settings.count} accessories are complete; every issued identity is in the journal. ` +
        `Continue with: factory-station batch --resume --outdir ${ctx.shownOutdir}`,
      interruption.exitCode,
    );
  }
  const t1 = performance.now();

  // Master files, labels, manifest: written only now that every accessory exists, row by row
  // (a large batch's masters are never one string in memory).
  const ordered = function* () {
    for (let i = 0; i < settings.count; i++) {
      const rec = identities.get(i)!;
      yield { rec, result: results.get(i)!, name: nameOf(rec) };
    }
  };
  const files: string[] = [];
  const masterConfig = masterConfigText(settings.config?.text, plan.config?.declaresHapSetup ?? false);
  await writeFileAtomic(join(outdir, run.masters.config), masterConfig);
  files.push(run.masters.config);
  const valuesRows = function* () {
    yield pythonCsvRow([...(header ?? []), ...GENERATED_COLUMNS, ...(settings.serial ? [SERIAL_COLUMN] : [])]);
    for (const { rec, result } of ordered()) {
      yield pythonCsvRow([...(rowOf(rec.index) ?? []), ...generatedFields(rec, { saltHex: rec.salt, verifierHex: result.verifierHex, payload: result.payload }, settings.productData)]);
    }
  };
  await writeFileAtomicFrom(join(outdir, run.masters.values), valuesRows(), SECRET_MODE);
  files.push(run.masters.values);

  let sheetInfo = '';
  if (plan.labelSpec && (settings.labels.mode === 'sheet' || settings.labels.mode === 'both')) {
    const layouts: LabelLayout[] = Array.from(ordered(), ({ rec, result }) => result.layout ?? layoutLabel(plan.labelSpec!, { setupPayload: result.payload, setupCode: rec.setupCode, ...serialSample(rec.serial) }));
    const sheetName = run.masters.labels!;
    await writeFileAtomic(join(outdir, sheetName), await renderSheet(layouts, settings.labels.paper), SECRET_MODE);
    files.push(sheetName);
    sheetInfo = sheetName;
  }

  const manifestName = run.masters.manifest;
  const manifestUnits = function* () {
    for (const { rec, result, name } of ordered()) yield { name, setupCode: rec.setupCode, setupId: rec.setupId, payload: result.payload, salt: rec.salt, verifier: result.verifierHex, serial: rec.serial };
  };
  await writeBatchManifest(join(outdir, manifestName), run, manifestUnits());
  files.push(manifestName);
  await journal.appendDurable([{ type: 'complete', completedAt: new Date().toISOString(), units: settings.count, files }]);
  await journal.close();

  const shown = (f: string) => join(ctx.shownOutdir, f);
  io.stdout(`Version:  v${settings.version} - Multipage Blob Support ${settings.version === 2 ? 'Enabled' : 'Disabled'}\n`);
  io.stdout(`Accessories generated: ${settings.count} (${built} in this run) -> ${shown('bin')}/, ${shown('csv')}/, ${shown('homekit_setup_info')}/${settings.keygen ? `, ${shown('keys')}/` : ''}${settings.labels.mode === 'single' || settings.labels.mode === 'both' ? `, ${shown('labels')}/` : ''}\n`);
  io.stdout(`HomeKit config data generated is added to file: ${shown(run.masters.config)}\n`);
  io.stdout(`HomeKit values data generated is added to file: ${shown(run.masters.values)}\n`);
  if (sheetInfo) io.stdout(`Label sheet (${settings.labels.paper}): ${shown(sheetInfo)}\n`);
  if (settings.serial) io.stdout(`Serial numbers (${settings.serial.product}): ${identities.get(0)!.serial} … ${identities.get(settings.count - 1)!.serial}\n`);
  io.stdout(`Station manifest: ${shown(manifestName)}\n`);
  io.stdout(`Journal: ${shown(basename(journal.path))}\n`);
  if (pool) io.stdout(`Threads: coordinator built ${pool.counts.inline}, ${pool.workerCount} worker thread(s) built ${pool.counts.workers}\n`);
  const lanes = { inline: pool?.counts.inline ?? 0, workers: pool?.counts.workers ?? 0, workerThreads: pool?.workerCount ?? 0 };
  return { runId: run.runId, outdir, units: settings.count, built, journal: journal.path, files, timings: { unitsMs: t1 - t0, finishMs: performance.now() - t1 }, lanes };
}

/** A worker is useful from ~0.3 s into a run (boot + table copy): not for batches smaller than this. */
const UNITS_PER_EXTRA_LANE = 200;

function lanesFor(units: number, jobs: number): number {
  return Math.max(1, Math.min(jobs, 1 + Math.floor(units / UNITS_PER_EXTRA_LANE)));
}

function keyBytes(keys: NvsKeys): Uint8Array {
  const out = new Uint8Array(64);
  out.set(keys.encryptionKey, 0);
  out.set(keys.tweakKey, 32);
  return out;
}

function workerInit(plan: Plan, outdir: string, cwd: string): WorkerInit {
  const init: WorkerInit = { type: 'init', spec: plan.spec, outdir, cwd };
  if (plan.keys) init.keys = plan.keys;
  const { mode, format } = plan.settings.labels;
  if (plan.labelSpec && (mode === 'single' || mode === 'both')) init.singleLabels = { spec: plan.labelSpec, format };
  if (plan.labelSpec && (mode === 'sheet' || mode === 'both')) init.sheetLayouts = plan.labelSpec;
  return init;
}

function settingsFromArgs(args: GenerateArgs, io: BatchOutput): BatchSettings {
  const settings: BatchSettings = {
    prefix: args.prefix,
    category: args.category,
    count: args.count ?? 0,
    fileid: args.fileid,
    size: args.size,
    version: args.version,
    payloadFlags: args.payloadFlags,
    encrypt: args.encrypt,
    keygen: args.keygen,
    labels: { mode: args.labels, format: args.labelFormat, paper: args.paper, size: args.labelSize },
  };
  if (args.productData !== undefined) settings.productData = args.productData;
  if (args.conf !== undefined) settings.config = { file: args.conf, text: readTextInput(args.conf, io.cwd, 'config file') };
  if (args.values !== undefined) settings.values = { file: args.values, text: readTextInput(args.values, io.cwd, 'values file') };
  if (args.keyfile !== undefined) settings.keyfile = { path: args.keyfile, sha256: loadKeyFile(args.keyfile, io.cwd).sha256 };
  if (args.serials !== undefined) settings.serial = loadSerialScheme(args.serials, io.cwd, args.category);
  return settings;
}

/** Parses and checks the settings' inputs; `fresh` also test-builds every values row. */
function makePlan(settings: BatchSettings, cwd: string, fresh: boolean): Plan {
  try {
    const config = settings.config ? loadConfig(settings.config.file, settings.config.text) : undefined;
    const values = settings.values ? loadValues(settings.values.file, settings.values.text, config, settings.fileid) : undefined;
    if (values) settings.count = values.rows.length;
    const spec: BatchUnitSpec = { category: settings.category, payloadFlags: settings.payloadFlags, size: settings.size, version: settings.version };
    if (settings.productData !== undefined) spec.productData = settings.productData;
    if (settings.serial) spec.serialNvs = settings.serial.scheme.nvs;
    if (config && settings.serial) checkConfigLeavesSerial(config, settings.serial.scheme.nvs);
    if (config) {
      spec.configLines = config.lines;
      spec.declaresHapSetup = config.declaresHapSetup;
    }
    if (values) {
      spec.valuesHeader = values.header;
      spec.firstRow = values.rows[0]!.fields;
    }
    const plan: Plan = { settings, spec };
    if (config) plan.config = config;
    if (values) {
      plan.values = values;
      if (fresh && config) checkValuesBuild(spec, values, cwd);
    }
    if (settings.keyfile) {
      const { keys, sha256 } = loadKeyFile(settings.keyfile.path, cwd);
      if (sha256 !== settings.keyfile.sha256) throw new BatchError('input', `--keyfile ${settings.keyfile.path}: the file changed since the batch started; restore it to resume`);
      plan.keys = keys;
    }
    if (settings.labels.mode !== 'none') {
      plan.labelSpec = batchLabelSpec(settings.labels.size, settings.serial?.scheme);
      if (fresh) checkBatchLabels(plan.labelSpec, settings.labels.mode === 'single' ? undefined : settings.labels.paper, settings.productData !== undefined, settings.serial?.scheme);
    }
    return plan;
  } catch (err) {
    if (err instanceof BatchInputError) throw new BatchError('input', err.message);
    throw err;
  }
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

function checkOutdir(outdir: string, shown: string): void {
  try {
    if (!statSync(outdir).isDirectory()) throw new BatchError('input', `--outdir ${shown}: exists and is not a directory`);
  } catch (err) {
    if (err instanceof BatchError) throw err;
    // Missing: created when the run starts.
  }
}

async function findJournalsOrFail(outdir: string): Promise<FoundJournal[]> {
  try {
    return await findJournals(outdir);
  } catch (err) {
    throw new BatchError('state', `${(err as Error).message}`);
  }
}

interface RunNames {
  runId: string;
  journal: string;
  masters: JournalRunRecord['masters'];
}

/**
 * Master file names as the reference chooses them — `homekit_<conf file name>` /
 * `homekit_<values file name>`, else `homekit_config_MM-DD_HH-MM.csv` / `homekit_values_…` — but
 * where the reference fails when they exist (a second run in the same minute), the first free
 * suffix (_2, _3, …) is taken for the whole set: masters, labels, manifest and journal of one run
 * share it.
 */
function pickRunNames(outdir: string, settings: BatchSettings, now = new Date()): RunNames {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}`;
  const runId = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}-${randomBytes(4).toString('hex')}`;
  const withSuffix = (name: string, sfx: string) => {
    const dot = name.lastIndexOf('.');
    return dot > 0 ? `${name.slice(0, dot)}${sfx}${name.slice(dot)}` : `${name}${sfx}`;
  };
  const labels = settings.labels.mode === 'sheet' || settings.labels.mode === 'both';
  for (let n = 1; ; n++) {
    const sfx = n === 1 ? '' : `_${n}`;
    const masters: JournalRunRecord['masters'] = {
      config: withSuffix(settings.config ? `homekit_${basename(settings.config.file)}` : `homekit_config_${stamp}.csv`, sfx),
      values: withSuffix(settings.values ? `homekit_${basename(settings.values.file)}` : `homekit_values_${stamp}.csv`, sfx),
      manifest: `homekit_manifest_${stamp}${sfx}.json`,
    };
    if (labels) masters.labels = `homekit_labels_${stamp}${sfx}_${settings.labels.paper}.pdf`;
    const journal = `homekit_batch_${stamp}${sfx}.journal`;
    const all = [journal, ...Object.values(masters)];
    if (!all.some((f) => existsSync(join(outdir, f)))) return { runId, journal, masters };
  }
}

/** An option value in a message, cut when long (a 300-character prefix is not worth echoing whole). */
function shortText(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
