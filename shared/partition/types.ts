// Partition table data model, keyword tables and the error type, following ESP-IDF's
// gen_esp32part.py 1.5 (ESP-IDF v5.5–v6.0).

export interface PartitionFlags {
  encrypted: boolean;
  readonly: boolean;
}

export interface PartitionEntry {
  /** As written in the CSV; only its first 16 UTF-8 bytes reach the binary. */
  name: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  flags: PartitionFlags;
  /** 1-based physical CSV line the entry came from (absent for binary input). */
  line?: number;
}

export interface PartitionTable {
  entries: PartitionEntry[];
}

/** One `--extra-partition-subtypes` entry: adds a subtype keyword to a built-in type. */
export interface ExtraSubtype {
  type: 'app' | 'data' | 'bootloader' | 'partition_table';
  name: string;
  value: number;
}

export const APP_TYPE = 0x00;
export const DATA_TYPE = 0x01;
export const BOOTLOADER_TYPE = 0x02;
export const PARTITION_TABLE_TYPE = 0x03;

/** Binary table size: records + MD5 record + 0xFF fill. */
export const PARTITION_TABLE_BINARY_SIZE = 0xc00;
/** The flash sector the table occupies (auto placement starts after it). */
export const PARTITION_TABLE_SECTOR_SIZE = 0x1000;
export const DEFAULT_PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_RECORD_SIZE = 32;
export const NVS_RW_MIN_SIZE = 0x3000;
export const OTADATA_SIZE = 0x2000;

/** Type keywords in the tool's order (the order shows in "Known keywords" messages). */
export const TYPE_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['bootloader', BOOTLOADER_TYPE],
  ['partition_table', PARTITION_TABLE_TYPE],
  ['app', APP_TYPE],
  ['data', DATA_TYPE],
]);

function builtinSubtypes(): Map<number, Map<string, number>> {
  const app = new Map<string, number>([['factory', 0x00], ['test', 0x20]]);
  for (let slot = 0; slot < 16; slot++) app.set(`ota_${slot}`, 0x10 + slot);
  for (let slot = 0; slot < 2; slot++) app.set(`tee_${slot}`, 0x30 + slot);
  return new Map([
    [BOOTLOADER_TYPE, new Map([['primary', 0x00], ['ota', 0x01], ['recovery', 0x02]])],
    [PARTITION_TABLE_TYPE, new Map([['primary', 0x00], ['ota', 0x01]])],
    [APP_TYPE, app],
    [DATA_TYPE, new Map([
      ['ota', 0x00], ['phy', 0x01], ['nvs', 0x02], ['coredump', 0x03], ['nvs_keys', 0x04], ['efuse', 0x05],
      ['undefined', 0x06], ['esphttpd', 0x80], ['fat', 0x81], ['spiffs', 0x82], ['littlefs', 0x83], ['tee_ota', 0x90],
    ])],
  ]);
}

export const SUBTYPE_UNDEFINED = 0x06;

/** Subtype keyword tables per type; built fresh so extra subtypes never leak between calls. */
export type SubtypeKeywords = ReadonlyMap<number, ReadonlyMap<string, number>>;

export function subtypeKeywords(extra: readonly ExtraSubtype[] = []): SubtypeKeywords {
  const tables = builtinSubtypes();
  for (const e of extra) {
    const table = tables.get(TYPE_KEYWORDS.get(e.type)!)!;
    if ([...table.values()].includes(e.value)) {
      throw new PartitionTableError(`Found duplicate value in partition subtype`, { code: 'extra-subtype' });
    }
    table.set(e.name, e.value); // an existing name keeps its place and takes the new value, as in a dict
  }
  return tables;
}

export const BUILTIN_SUBTYPES: SubtypeKeywords = subtypeKeywords();

/** Offset alignment: app 64 KiB, everything else 4 KiB. */
export function offsetAlignment(type: number): number {
  return type === APP_TYPE ? 0x10000 : 0x1000;
}

/** App size alignment: 4 KiB, or 64 KiB for secure boot v1 (the signature sits at the end of a 64K block). */
export function appSizeAlignment(secure?: 'v1' | 'v2'): number {
  return secure === 'v1' ? 0x10000 : 0x1000;
}

export function isPrimaryBootloaderOrTable(e: Pick<PartitionEntry, 'type' | 'subtype'>): boolean {
  return (e.type === BOOTLOADER_TYPE || e.type === PARTITION_TABLE_TYPE) && e.subtype === 0x00;
}

export type PartitionErrorCode =
  | 'csv-field' // a CSV line could not be parsed (line + field set)
  | 'csv-variable' // a line starts with an undefined $VARIABLE
  | 'csv-order' // explicit offset below the end of the previous partition / table
  | 'text-encoding'
  | 'partition-invalid' // per-partition validation
  | 'table-invalid' // whole-table validation (names, overlaps, otadata)
  | 'flash-size'
  | 'too-long'
  | 'out-of-range'
  | 'binary'
  | 'md5'
  | 'extra-subtype'
  | 'option';

/**
 * Any problem with a partition table. `message` is the reference tool's text (multi-line where
 * the tool's is); `details` are the lines the tool prints just before it (e.g. the partitions that
 * share a name); `line`/`field` locate CSV parse errors.
 */
export class PartitionTableError extends Error {
  readonly code: PartitionErrorCode;
  readonly line?: number;
  readonly field?: string;
  readonly partition?: string;
  readonly details: readonly string[];
  constructor(
    message: string,
    info: { code: PartitionErrorCode; line?: number; field?: string; partition?: string; details?: readonly string[] },
  ) {
    super(message);
    this.name = 'PartitionTableError';
    this.code = info.code;
    this.line = info.line;
    this.field = info.field;
    this.partition = info.partition;
    this.details = info.details ?? [];
  }
}

export type WarningSink = (message: string) => void;
