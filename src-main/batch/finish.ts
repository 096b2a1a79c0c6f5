// A batch's last step, once every accessory exists: the master config and values CSVs, the label
// sheet and the station manifest (written row by row: a large batch's masters are never one
// string in memory), then the lines that tell the user where everything went.
import { basename, join } from 'node:path';
import { GENERATED_COLUMNS, SERIAL_COLUMN, masterConfigText } from '../../shared/batch/custom-data.ts';
import type { JournalIdentityRecord, JournalRunRecord } from '../../shared/batch/journal.ts';
import { pythonCsvRow } from '../../shared/batch/python-csv.ts';
import { generatedFields } from '../../shared/batch/unit.ts';
import { layoutLabel } from '../../shared/label/layout.ts';
import { writeFileAtomic, writeFileAtomicFrom } from '../fs/index.ts';
import type { BatchOutput } from './errors.ts';
import { renderSheet } from './labels.ts';
import { writeBatchManifest } from './manifest.ts';
import type { Plan } from './plan.ts';
import type { UnitResult } from './protocol.ts';
import { serialSample } from './serials.ts';

const SECRET_MODE = 0o600;

export interface FinishJob {
  plan: Plan;
  run: JournalRunRecord;
  outdir: string;
  identities: Map<number, JournalIdentityRecord>;
  results: Map<number, UnitResult>;
  nameOf(rec: JournalIdentityRecord): string;
}

interface Unit {
  rec: JournalIdentityRecord;
  result: UnitResult;
  name: string;
}

/** Writes the master files; returns their names (in the order written) and the label sheet's, if any. */
export async function writeMasters(job: FinishJob): Promise<{ files: string[]; sheet?: string }> {
  const { plan, run, outdir } = job;
  const ordered = function* (): Generator<Unit> {
    for (let i = 0; i < plan.settings.count; i++) {
      const rec = job.identities.get(i)!;
      yield { rec, result: job.results.get(i)!, name: job.nameOf(rec) };
    }
  };
  const files: string[] = [];
  await writeFileAtomic(join(outdir, run.masters.config), masterConfigText(plan.settings.config?.text, plan.config?.declaresHapSetup ?? false));
  files.push(run.masters.config);
  await writeFileAtomicFrom(join(outdir, run.masters.values), valuesRows(plan, ordered()), SECRET_MODE);
  files.push(run.masters.values);
  let sheet: string | undefined;
  const { labels } = plan.settings;
  if (plan.labelSpec && (labels.mode === 'sheet' || labels.mode === 'both')) {
    const spec = plan.labelSpec;
    const layouts = Array.from(ordered(), ({ rec, result }) => result.layout ?? layoutLabel(spec, { setupPayload: result.payload, setupCode: rec.setupCode, ...serialSample(rec.serial) }));
    sheet = run.masters.labels!;
    await writeFileAtomic(join(outdir, sheet), await renderSheet(layouts, labels.paper), SECRET_MODE);
    files.push(sheet);
  }
  const manifestUnits = function* () {
    for (const { rec, result, name } of ordered()) yield { name, setupCode: rec.setupCode, setupId: rec.setupId, payload: result.payload, salt: rec.salt, verifier: result.verifierHex, serial: rec.serial };
  };
  await writeBatchManifest(join(outdir, run.masters.manifest), run, manifestUnits());
  files.push(run.masters.manifest);
  return sheet ? { files, sheet } : { files };
}

/** The values master: the user's columns (if any), then the generated ones, one accessory per row. */
function* valuesRows(plan: Plan, units: Iterable<Unit>): Generator<string> {
  const { settings } = plan;
  yield pythonCsvRow([...(plan.values?.header ?? []), ...GENERATED_COLUMNS, ...(settings.serial ? [SERIAL_COLUMN] : [])]);
  for (const { rec, result } of units) {
    const row = plan.values?.rows[rec.index]!.fields ?? [];
    yield pythonCsvRow([...row, ...generatedFields(rec, { saltHex: rec.salt, verifierHex: result.verifierHex, payload: result.payload }, settings.productData)]);
  }
}

export interface SummaryFacts {
  shownOutdir: string;
  built: number;
  sheet?: string;
  journalPath: string;
  lanes: { inline: number; workers: number; workerThreads: number } | null;
}

/** What was written where (the reference's first lines, then ours). */
export function printSummary(io: BatchOutput, job: FinishJob, facts: SummaryFacts): void {
  const { settings } = job.plan;
  const { masters } = job.run;
  const shown = (f: string) => join(facts.shownOutdir, f);
  const single = settings.labels.mode === 'single' || settings.labels.mode === 'both';
  io.stdout(`Version:  v${settings.version} - Multipage Blob Support ${settings.version === 2 ? 'Enabled' : 'Disabled'}\n`);
  io.stdout(`Accessories generated: ${settings.count} (${facts.built} in this run) -> ${shown('bin')}/, ${shown('csv')}/, ${shown('homekit_setup_info')}/${settings.keygen ? `, ${shown('keys')}/` : ''}${single ? `, ${shown('labels')}/` : ''}\n`);
  io.stdout(`HomeKit config data generated is added to file: ${shown(masters.config)}\n`);
  io.stdout(`HomeKit values data generated is added to file: ${shown(masters.values)}\n`);
  if (facts.sheet) io.stdout(`Label sheet (${settings.labels.paper}): ${shown(facts.sheet)}\n`);
  if (settings.serial) io.stdout(`Serial numbers (${settings.serial.product}): ${job.identities.get(0)!.serial} … ${job.identities.get(settings.count - 1)!.serial}\n`);
  io.stdout(`Station manifest: ${shown(masters.manifest)}\n`);
  io.stdout(`Journal: ${shown(basename(facts.journalPath))}\n`);
  if (facts.lanes) io.stdout(`Threads: coordinator built ${facts.lanes.inline}, ${facts.lanes.workerThreads} worker thread(s) built ${facts.lanes.workers}\n`);
}
