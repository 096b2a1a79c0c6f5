// A batch's plan: everything derived from its settings — the parsed config and values CSVs, the
// accessory spec the workers build from, the NVS keys, the label spec — the same for a fresh run
// and a resumed one. Checked here, before anything is written: a bad input ends the run with a
// message naming its file and line, and a resumed run refuses a key file that changed.
import { BatchInputError } from '../../shared/batch/errors.ts';
import type { BatchConfig, BatchValues } from '../../shared/batch/custom-data.ts';
import type { BatchSettings } from '../../shared/batch/journal.ts';
import type { BatchUnitSpec } from '../../shared/batch/unit.ts';
import type { LabelSpec } from '../../shared/label/layout.ts';
import type { NvsKeys } from '../../shared/nvs/encryption.ts';
import { BatchError } from './errors.ts';
import { checkValuesBuild, loadConfig, loadKeyFile, loadValues } from './inputs.ts';
import { batchLabelSpec, checkBatchLabels } from './labels.ts';
import type { WorkerInit } from './protocol.ts';
import { checkConfigLeavesSerial } from './serials.ts';

export interface Plan {
  settings: BatchSettings;
  config?: BatchConfig;
  values?: BatchValues;
  spec: BatchUnitSpec;
  keys?: NvsKeys;
  labelSpec?: LabelSpec;
}

/** Parses and checks the settings' inputs; `fresh` also test-builds every values row. */
export function makePlan(settings: BatchSettings, cwd: string, fresh: boolean): Plan {
  try {
    const config = settings.config ? loadConfig(settings.config.file, settings.config.text) : undefined;
    const values = settings.values ? loadValues(settings.values.file, settings.values.text, config, settings.fileid) : undefined;
    if (values) settings.count = values.rows.length;
    const spec = unitSpec(settings, config, values);
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

function unitSpec(settings: BatchSettings, config: BatchConfig | undefined, values: BatchValues | undefined): BatchUnitSpec {
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
  return spec;
}

/** What each worker lane is told once: the spec, the keys and which labels it renders. */
export function workerInit(plan: Plan, outdir: string, cwd: string): WorkerInit {
  const init: WorkerInit = { type: 'init', spec: plan.spec, outdir, cwd };
  if (plan.keys) init.keys = plan.keys;
  const { mode, format } = plan.settings.labels;
  if (plan.labelSpec && (mode === 'single' || mode === 'both')) init.singleLabels = { spec: plan.labelSpec, format };
  if (plan.labelSpec && (mode === 'sheet' || mode === 'both')) init.sheetLayouts = plan.labelSpec;
  return init;
}
