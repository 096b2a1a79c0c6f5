// `factory-station batch`: the coordinator. Validates everything first (plan.ts: nothing is
// written for bad input), picks the run's file names and starts its journal (or reopens an
// unfinished one for `--resume`), then has build.ts issue identities in chunks — journaled and
// fsync'ed before their files exist — while worker threads build the accessories; finally
// finish.ts writes the master files, labels and the station manifest, and the journal is marked
// complete.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { JOURNAL_FORMAT, JOURNAL_VERSION, type BatchSettings, type JournalDoneRecord, type JournalIdentityRecord, type JournalRunRecord } from '../../shared/batch/journal.ts';
import { unitFileId } from '../../shared/batch/unit.ts';
import { ensureDirSync, removeStaleTempFiles } from '../fs/index.ts';
import { buildUnits } from './build.ts';
import { BatchError, type BatchOutput } from './errors.ts';
import { printSummary, writeMasters } from './finish.ts';
import { loadKeyFile, readTextInput } from './inputs.ts';
import { findJournals, JournalWriter, type FoundJournal } from './journal-file.ts';
import { openIdentityRegistry, type IdentityRegistry } from './manifest.ts';
import { sampleFileId, unitDirs, unitFiles, unitNameProblem } from './names.ts';
import { makePlan, type Plan } from './plan.ts';
import { loadSerialScheme } from './serials.ts';

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

/** Builds what is left, writes the master files, marks the journal complete and reports. */
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
  const header = plan.values?.header;
  const nameOf = (r: JournalIdentityRecord) => `${settings.prefix}-${unitFileId(settings.fileid, r, header, plan.values?.rows[r.index]!.fields)}`;
  const build = await buildUnits({ plan, run, journal, identities, done, ...ctx, io, nameOf });
  const t1 = performance.now();
  const job = { plan, run, outdir: ctx.outdir, identities, results: build.results, nameOf };
  const { files, sheet } = await writeMasters(job);
  await journal.appendDurable([{ type: 'complete', completedAt: new Date().toISOString(), units: settings.count, files }]);
  await journal.close();
  printSummary(io, job, { shownOutdir: ctx.shownOutdir, built: build.built, sheet, journalPath: journal.path, lanes: build.pooled ? build.lanes : null });
  return { runId: run.runId, outdir: ctx.outdir, units: settings.count, built: build.built, journal: journal.path, files, timings: { unitsMs: build.unitsMs, finishMs: performance.now() - t1 }, lanes: build.lanes };
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
