// Messages between the batch coordinator (main thread) and its worker threads.
import type { NvsKeys } from '../../shared/nvs/encryption.ts';
import type { BatchUnitSpec } from '../../shared/batch/unit.ts';
import type { SerializedSrpTable } from './srp-table-cache.ts';
import type { LabelLayout, LabelSpec } from '../../shared/label/layout.ts';

export interface WorkerInit {
  type: 'init';
  spec: BatchUnitSpec;
  /** Absolute output folder. */
  outdir: string;
  /** Folder `file` rows of custom data are resolved against. */
  cwd: string;
  /** One key for every accessory (--keyfile). */
  keys?: NvsKeys;
  /** Label of every accessory as a file of its own (labels/<name>.pdf|svg). */
  singleLabels?: { spec: LabelSpec; format: 'pdf' | 'svg' };
  /** Return each label's layout (for the sheet PDF the coordinator assembles). */
  sheetLayouts?: LabelSpec;
  /** The SRP fixed-base table, loaded or built once by the coordinator (see srp-table-cache.ts). */
  srpTable?: SerializedSrpTable;
  /** So few accessories that building the SRP table would cost more than it saves. */
  fewUnits?: boolean;
}

export interface UnitTask {
  index: number;
  /** `<prefix>-<fileid>`: base name of the files. */
  name: string;
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  /** 64 bytes (--keygen): this accessory's own key. */
  nvsKey?: Uint8Array;
  /** Values row (custom-data mode). */
  row?: string[];
  /** Its serial number (batches with serial numbers). */
  serial?: string;
}

export interface UnitResult {
  index: number;
  verifierHex: string;
  payload: string;
  layout?: LabelLayout;
}

export type ToWorker = WorkerInit | { type: 'units'; id: number; units: UnitTask[] } | { type: 'close' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; id: number; results: UnitResult[] }
  | { type: 'error'; id: number; message: string };
