// Builds one accessory and writes its files: the work a batch lane does, on a worker thread or on
// the coordinator's own thread (see pool.ts).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildUnit } from '../../shared/batch/unit.ts';
import { serialLabelText } from '../../shared/station/serial.ts';
import { precomputeSrpTable } from '../../shared/homekit/srp.ts';
import { adoptSerializedSrpTable } from './srp-table-cache.ts';
import { buildKeysPartition } from '../../shared/nvs/keys.ts';
import type { LabelLayout } from '../../shared/label/layout.ts';
import { describeFsError, writeFileAtomicSync } from '../fs/index.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { UnitResult, UnitTask, WorkerInit } from './protocol.ts';

/** Fixed PDF date: a label rebuilt by a resumed run is byte-identical to the first one. */
const LABEL_DATE = new Date('2000-01-01T00:00:00Z');
const SECRET_MODE = 0o600;
const PUBLIC_MODE = 0o644;

interface LabelCode {
  layoutLabel: typeof import('../../shared/label/layout.ts').layoutLabel;
  renderLabelSvg: typeof import('../../shared/label/svg.ts').renderLabelSvg;
  renderLabelPdf?: typeof import('../label/pdf.ts').renderLabelPdf;
}

export interface UnitWriter {
  write(task: UnitTask): Promise<UnitResult>;
}

/** Loads what the batch needs (label code only when it makes labels: pdf-lib is slow to load). */
export async function createUnitWriter(cfg: WorkerInit): Promise<UnitWriter> {
  let labels: LabelCode | undefined;
  if (cfg.singleLabels || cfg.sheetLayouts) {
    const [{ layoutLabel }, { renderLabelSvg }] = await Promise.all([import('../../shared/label/layout.ts'), import('../../shared/label/svg.ts')]);
    labels = { layoutLabel, renderLabelSvg };
    if (cfg.singleLabels?.format === 'pdf') labels.renderLabelPdf = (await import('../label/pdf.ts')).renderLabelPdf;
  }
  if (cfg.srpTable) adoptSerializedSrpTable(cfg.srpTable);
  // A few accessories are quicker without the table (see shared/homekit/srp.ts).
  else if (!cfg.fewUnits) precomputeSrpTable();
  const readFile = (p: string) => new Uint8Array(readFileSync(resolve(cfg.cwd, p)));
  let encryptNvsImage: typeof import('../../shared/nvs/encryption.ts').encryptNvsImage | undefined;

  /** One accessory's files; `stage.file` says which file is being written (for the error message). */
  async function writeUnit(task: UnitTask, stage: { file: string }): Promise<UnitResult> {
    const write = (kind: string, path: string, data: Uint8Array | string, mode = PUBLIC_MODE) => {
      stage.file = kind;
      writeFileAtomicSync(path, data, mode);
      stage.file = '';
    };
    const keys = task.nvsKey ? { encryptionKey: task.nvsKey.slice(0, 32), tweakKey: task.nvsKey.slice(32, 64) } : cfg.keys;
    const identity = { index: task.index, setupCode: task.setupCode, setupId: task.setupId, salt: task.salt, ...(task.serial !== undefined ? { serial: task.serial } : {}) };
    const encryptImage = keys ? (encryptNvsImage ??= (await import('../../shared/nvs/encryption.ts')).encryptNvsImage) : undefined;
    const built = buildUnit(cfg.spec, identity, task.row, { readFile, ...(encryptImage ? { encrypt: (image: Uint8Array) => encryptImage(image, keys!) } : {}) });
    const out = cfg.outdir;
    write('csv', join(out, 'csv', `${task.name}.csv`), built.csvText);
    write('bin', join(out, 'bin', `${task.name}.bin`), built.image);
    write('setup info (.txt)', join(out, 'homekit_setup_info', `${task.name}.txt`), built.txtText, SECRET_MODE);
    if (task.nvsKey) write('keys', join(out, 'keys', `${task.name}-keys.bin`), buildKeysPartition(keys!), SECRET_MODE);
    const result: UnitResult = { index: task.index, verifierHex: built.verifierHex, payload: built.payload };
    if (labels) {
      const spec = cfg.singleLabels?.spec ?? cfg.sheetLayouts!;
      const layout: LabelLayout = labels.layoutLabel(spec, { setupPayload: built.payload, setupCode: task.setupCode, ...(task.serial !== undefined ? { serial: serialLabelText(task.serial) } : {}) });
      if (cfg.singleLabels) {
        const file = join(out, 'labels', `${task.name}.${cfg.singleLabels.format}`);
        const data = labels.renderLabelPdf
          ? await labels.renderLabelPdf(layout, { title: 'HomeKit setup label', date: LABEL_DATE })
          : labels.renderLabelSvg(layout);
        write('label', file, data, SECRET_MODE);
      }
      if (cfg.sheetLayouts) result.layout = layout;
    }
    return result;
  }

  return {
    async write(task: UnitTask): Promise<UnitResult> {
      const stage = { file: '' };
      try {
        return await writeUnit(task, stage);
      } catch (err) {
        throw unitFailure(task, stage.file, err);
      }
    },
  };
}

/**
 * A failed accessory, named by position and setup ID. Never by its file name: with the default
 * --fileid that holds the setup code, and this message reaches the terminal (and logs).
 */
function unitFailure(task: UnitTask, file: string, err: unknown): Error {
  const where = `accessory ${task.index + 1} (setup ID ${task.setupId})`;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (file && typeof code === 'string') return new Error(`${where}: cannot write its ${file} file: ${describeFsError(code)}`);
  // Anything else: its own words, with the accessory's name and code taken out to be sure.
  const text = err instanceof Error ? err.message : String(err);
  const clean = [task.name, formatSetupCode(task.setupCode), task.setupCode].reduce((t, secret) => t.split(secret).join('…'), text);
  return new Error(`${where}: ${file ? `cannot write its ${file} file: ` : ''}${clean}`);
}
