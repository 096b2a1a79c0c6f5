// Partition CSV → table, with gen_esp32part.py's grammar quirks: no quoting, `,,,,` padding,
// k/m suffixes, keyword lookup after a failed int(), environment expansion, automatic offsets.
import { hex, pyIntBase0, pySplitLines, pyStrip } from './python-text.ts';
import {
  APP_TYPE,
  BOOTLOADER_TYPE,
  BUILTIN_SUBTYPES,
  DEFAULT_PARTITION_TABLE_OFFSET,
  PARTITION_TABLE_SECTOR_SIZE,
  PARTITION_TABLE_TYPE,
  PartitionTableError,
  SUBTYPE_UNDEFINED,
  TYPE_KEYWORDS,
  isPrimaryBootloaderOrTable,
  offsetAlignment,
  subtypeKeywords,
  type ExtraSubtype,
  type PartitionEntry,
  type PartitionTable,
  type SubtypeKeywords,
  type WarningSink,
} from './types.ts';
import { verifyFlashSize, verifyPartitionTable } from './verify.ts';

export interface PartitionCsvOptions {
  /** Partition table offset (`--offset`), default 0x8000: automatic placement starts one sector later. */
  offset?: number;
  /** Flash size in bytes (`--flash-size`): the table must end within it. Checked even when verify is false. */
  flashSize?: number;
  /** Run the tool's validation (default true; false = `--no-verify`). */
  verify?: boolean;
  /** Variables for `$NAME` / `${NAME}` expansion (shared/ has no process.env). Default: none. */
  env?: Record<string, string | undefined>;
  /** `--secure v1|v2` (v1: app sizes must be 64 KiB-aligned). */
  secure?: 'v1' | 'v2';
  /** `--primary-bootloader-offset`: needed by `bootloader` entries. */
  primaryBootloaderOffset?: number;
  /** `--recovery-bootloader-offset`: needed by `bootloader,recovery` entries. */
  recoveryBootloaderOffset?: number;
  /** `--extra-partition-subtypes`: more subtype keywords. */
  extraSubtypes?: readonly ExtraSubtype[];
  /** Receives the tool's non-fatal "WARNING: …" lines. */
  onWarning?: WarningSink;
}

/** `$NAME` / `${NAME}` like Python's os.path.expandvars: known variables replaced, others kept. */
export function expandVariables(line: string, env: Record<string, string | undefined>): string {
  return line.replace(/\$([A-Za-z0-9_]+|\{[^}]*\})/g, (whole, ref: string) => {
    const name = ref.startsWith('{') ? ref.slice(1, -1) : ref;
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return value ?? whole;
  });
}

const FIELDS = ['name', 'type', 'subtype', 'offset', 'size', 'flags'] as const;
type Field = (typeof FIELDS)[number];

class FieldError extends Error {
  constructor(message: string, readonly field?: Field) {
    super(message);
  }
}

/**
 * The tool's parse_int: k/K/m/M suffixes (recursively), then int(x, 0), then (case-insensitive)
 * keyword lookup. Error texts are the tool's.
 */
export function parsePartitionNumber(text: string, keywords: ReadonlyMap<string, number> = new Map(), field?: Field): number {
  const lower = text.toLowerCase();
  if (lower.endsWith('k')) return parsePartitionNumber(text.slice(0, -1), keywords, field) * 1024;
  if (lower.endsWith('m')) return parsePartitionNumber(text.slice(0, -1), keywords, field) * 1024 * 1024;
  const n = pyIntBase0(text);
  if (n !== undefined) return n;
  if (keywords.size === 0) throw new FieldError(`Invalid field value ${text}`, field);
  const byKeyword = keywords.get(lower);
  if (byKeyword !== undefined) return byKeyword;
  throw new FieldError(`Value '${text}' is not valid. Known keywords: ${[...keywords.keys()].join(', ')}`, field);
}

interface Row {
  entry: Omit<PartitionEntry, 'offset'> & { offset: number | undefined };
}

function parseRow(line: string, lineNo: number, options: PartitionCsvOptions, subtypes: SubtypeKeywords): Row {
  const fields = (line + ',,,,').split(',').map(pyStrip);
  const [name, typeText, subtypeText, offsetText, sizeText, flagsText] = fields as [string, string, string, string, string, string];
  const tableOffset = options.offset ?? DEFAULT_PARTITION_TABLE_OFFSET;

  if (typeText === '') throw new FieldError("Field 'type' can't be left empty.", 'type');
  const type = parsePartitionNumber(typeText, TYPE_KEYWORDS, 'type');

  let subtype: number;
  if (subtypeText === '') {
    if (type === APP_TYPE) throw new FieldError('App partition cannot have an empty subtype', 'subtype');
    subtype = SUBTYPE_UNDEFINED;
  } else {
    subtype = parsePartitionNumber(subtypeText, subtypes.get(type), 'subtype');
  }

  const needPrimary = (): number => {
    if (options.primaryBootloaderOffset === undefined) {
      throw new FieldError('Primary bootloader offset is not defined. Please use --primary-bootloader-offset', 'offset');
    }
    return options.primaryBootloaderOffset;
  };

  // Offset: bootloader / partition_table entries take theirs from the options, not from the CSV.
  let offset: number | undefined;
  if (type === BOOTLOADER_TYPE && subtype === 0x00) offset = needPrimary();
  else if (type === BOOTLOADER_TYPE && subtype === 0x02) {
    if (options.recoveryBootloaderOffset === undefined) {
      throw new FieldError('Recovery bootloader offset is not defined. Please use --recovery-bootloader-offset', 'offset');
    }
    offset = options.recoveryBootloaderOffset;
  } else if (type === PARTITION_TABLE_TYPE && subtype === 0x00) offset = tableOffset;
  else offset = offsetText === '' ? undefined : parsePartitionNumber(offsetText, undefined, 'offset');

  let size: number | undefined;
  if (type === BOOTLOADER_TYPE) size = tableOffset - needPrimary();
  else if (type === PARTITION_TABLE_TYPE) size = PARTITION_TABLE_SECTOR_SIZE;
  else size = sizeText === '' ? undefined : parsePartitionNumber(sizeText, undefined, 'size');
  if (size === undefined) throw new FieldError("Size field can't be empty", 'size');

  const flags = { encrypted: false, readonly: false };
  for (const flag of flagsText.split(':')) {
    if (flag === 'encrypted' || flag === 'readonly') flags[flag] = true;
    else if (flag.length > 0) throw new FieldError(`CSV flag column contains unknown flag '${flag}'`, 'flags');
  }
  return { entry: { name, type, subtype, offset, size, flags, line: lineNo } };
}

/** The tool's `e == res[0]` compares name, type, subtype, offset and size (not identity). */
function sameAs(a: Row['entry'], b: Row['entry']): boolean {
  return a.name === b.name && a.type === b.type && a.subtype === b.subtype && a.offset === b.offset && a.size === b.size;
}

/** Fill in missing offsets (aligned after the previous end) and resolve negative ("ends at") sizes. */
function place(rows: Row['entry'][], tableOffset: number): PartitionEntry[] {
  let end = tableOffset + PARTITION_TABLE_SECTOR_SIZE;
  for (const e of rows) {
    if (isPrimaryBootloaderOrTable(e)) continue;
    if (e.offset !== undefined && e.offset < end) {
      const message = sameAs(e, rows[0]!)
        ? `CSV Error at line ${e.line}: Partitions overlap. Partition sets offset ${hex(e.offset)}. But partition table occupies the whole sector ${hex(tableOffset)}. Use a free offset ${hex(end)} or higher.`
        : `CSV Error at line ${e.line}: Partitions overlap. Partition sets offset ${hex(e.offset)}. Previous partition ends ${hex(end)}`;
      throw new PartitionTableError(message, { code: 'csv-order', line: e.line, field: 'offset', partition: e.name });
    }
    if (e.offset === undefined) {
      const align = offsetAlignment(e.type);
      if (end % align !== 0) end += align - (end % align);
      e.offset = end;
    }
    if (e.size < 0) e.size = -e.size - e.offset;
    end = e.offset + e.size;
  }
  return rows as PartitionEntry[];
}

/** Parse CSV text only (no validation): lines, fields, automatic placement. */
export function decodePartitionCsv(text: string, options: PartitionCsvOptions = {}): PartitionTable {
  const subtypes = options.extraSubtypes?.length ? subtypeKeywords(options.extraSubtypes) : BUILTIN_SUBTYPES;
  const env = options.env ?? {};
  const rows: Row['entry'][] = [];
  pySplitLines(text).forEach((raw, index) => {
    const lineNo = index + 1;
    const expanded = expandVariables(raw, env);
    const unknown = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(expanded);
    if (unknown) throw new PartitionTableError(`unknown variable '${unknown[1]}'`, { code: 'csv-variable', line: lineNo });
    const line = pyStrip(expanded);
    if (line === '' || line.startsWith('#')) return;
    try {
      rows.push(parseRow(line, lineNo, options, subtypes).entry);
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      throw new PartitionTableError(
        `Error at line ${lineNo}: ${err.message}\nPlease check extra_partition_subtypes.inc file in build/config directory`,
        { code: 'csv-field', line: lineNo, field: err.field },
      );
    }
  });
  return { entries: place(rows, options.offset ?? DEFAULT_PARTITION_TABLE_OFFSET) };
}

/**
 * CSV text → validated table, like gen_esp32part.py: parse, place, then (unless verify is false)
 * validate, then the flash-size check. Throws PartitionTableError.
 */
export function parsePartitionCsv(text: string, options: PartitionCsvOptions = {}): PartitionTable {
  checkBootloaderOffset(options);
  const table = decodePartitionCsv(text, options);
  finishTable(table, options);
  return table;
}

/** The tool refuses a primary bootloader at or above the partition table before reading anything. */
export function checkBootloaderOffset(options: Pick<PartitionCsvOptions, 'offset' | 'primaryBootloaderOffset'>): void {
  const primary = options.primaryBootloaderOffset;
  const tableOffset = options.offset ?? DEFAULT_PARTITION_TABLE_OFFSET;
  if (primary !== undefined && primary >= tableOffset) {
    throw new PartitionTableError(
      `Unsupported configuration. Primary bootloader must be below partition table. Check --primary-bootloader-offset=${hex(primary)} and --offset=${hex(tableOffset)}`,
      { code: 'option' },
    );
  }
}

/** The checks the tool runs after reading either input kind. */
export function finishTable(table: PartitionTable, options: PartitionCsvOptions): void {
  if (options.verify ?? true) {
    const subtypes = options.extraSubtypes?.length ? subtypeKeywords(options.extraSubtypes) : BUILTIN_SUBTYPES;
    verifyPartitionTable(table, { offset: options.offset, secure: options.secure, subtypes, onWarning: options.onWarning });
  }
  if (options.flashSize !== undefined) verifyFlashSize(table, options.flashSize);
}
