// gen_esp32part.py's table validation (skipped with --no-verify), same order and messages, and the
// --flash-size fit check (which runs even with --no-verify).
import { partitionEntryToCsv } from './format.ts';
import { compareCodePoints, hex, pyFixed1 } from './python-text.ts';
import {
  APP_TYPE,
  BUILTIN_SUBTYPES,
  DATA_TYPE,
  DEFAULT_PARTITION_TABLE_OFFSET,
  NVS_RW_MIN_SIZE,
  OTADATA_SIZE,
  PARTITION_TABLE_SECTOR_SIZE,
  PartitionTableError,
  TYPE_KEYWORDS,
  appSizeAlignment,
  isPrimaryBootloaderOrTable,
  offsetAlignment,
  type PartitionEntry,
  type PartitionTable,
  type SubtypeKeywords,
  type WarningSink,
} from './types.ts';

export interface VerifyOptions {
  /** Partition table offset (default 0x8000): partitions must start after its sector. */
  offset?: number;
  /** `--secure v1` requires 64 KiB-aligned app sizes. */
  secure?: 'v1' | 'v2';
  subtypes?: SubtypeKeywords;
  /** Receives the tool's non-fatal "WARNING: …" lines. */
  onWarning?: WarningSink;
}

const SUBTYPE_OTA = 0x00;
const SUBTYPE_NVS = 0x02;
const SUBTYPE_COREDUMP = 0x03;
const SUBTYPE_TEE_OTA = 0x90;

function invalid(e: PartitionEntry, message: string): PartitionTableError {
  return new PartitionTableError(`Partition ${e.name} invalid: ${message}`, { code: 'partition-invalid', partition: e.name, line: e.line });
}

function verifyEntry(e: PartitionEntry, options: VerifyOptions, subtypes: SubtypeKeywords): void {
  const align = offsetAlignment(e.type);
  if (e.offset % align !== 0) throw invalid(e, `Offset ${hex(e.offset)} is not aligned to ${hex(align)}`);
  if (e.type === APP_TYPE) {
    const sizeAlign = appSizeAlignment(options.secure);
    if (e.size % sizeAlign !== 0) throw invalid(e, `Size ${hex(e.size)} is not aligned to ${hex(sizeAlign)}`);
  }
  const warn = options.onWarning ?? (() => {});
  const namedType = TYPE_KEYWORDS.get(e.name);
  if (namedType !== undefined && namedType !== e.type) {
    warn(`WARNING: Partition has name '${e.name}' which is a partition type, but does not match this partition's type (${hex(e.type)}). Mistake in partition table?`);
  }
  const isSubtypeName = [...subtypes.values()].some((table) => table.has(e.name));
  if (isSubtypeName && subtypes.get(e.type)?.get(e.name) !== e.subtype) {
    warn(`WARNING: Partition has name '${e.name}' which is a partition subtype, but this partition has non-matching type ${hex(e.type)} and subtype ${hex(e.subtype)}. Mistake in partition table?`);
  }
  if (e.type === DATA_TYPE && (e.subtype === SUBTYPE_OTA || e.subtype === SUBTYPE_COREDUMP) && e.flags.readonly) {
    throw invalid(e, `'${e.name}' partition of type ${e.type} and subtype ${e.subtype} is always read-write and cannot be read-only`);
  }
  if (e.type === DATA_TYPE && e.subtype === SUBTYPE_NVS && e.size < NVS_RW_MIN_SIZE && !e.flags.readonly) {
    throw invalid(
      e,
      `'${e.name}' partition of type ${e.type} and subtype ${e.subtype} of this size (${hex(e.size)}) must be flagged as 'readonly' (the size of read/write NVS has to be at least ${hex(NVS_RW_MIN_SIZE)})`,
    );
  }
}

function tableError(message: string, details: string[] = []): PartitionTableError {
  return new PartitionTableError(message, { code: 'table-invalid', details });
}

function checkUniqueOtadata(entries: PartitionEntry[], subtype: number, label: string, keyword: string, subtypes: SubtypeKeywords): void {
  const found = entries.filter((p) => p.type === DATA_TYPE && p.subtype === subtype);
  const rows = found.map((p) => partitionEntryToCsv(p, subtypes));
  if (found.length > 1) {
    throw tableError(
      `Found multiple ${label} partitions. Only one partition can be defined with type="data"(1) and subtype="${keyword}"(${subtype === 0 ? '0' : hex(subtype)}).`,
      rows,
    );
  }
  if (found.length === 1 && found[0]!.size !== OTADATA_SIZE) throw tableError(`${label} partition must have size = ${hex(OTADATA_SIZE)}`, rows);
}

/** Throws PartitionTableError on the first problem, in the tool's order. */
export function verifyPartitionTable(table: PartitionTable, options: VerifyOptions = {}): void {
  const subtypes = options.subtypes ?? BUILTIN_SUBTYPES;
  const entries = table.entries;
  for (const e of entries) verifyEntry(e, options, subtypes);

  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  if ([...counts.values()].some((n) => n > 1)) {
    const listed = [...entries]
      .sort((a, b) => compareCodePoints(a.name, b.name))
      .filter((e) => counts.get(e.name)! > 1)
      .map((e) => partitionEntryToCsv(e, subtypes));
    throw tableError('Partition names must be unique', ['A list of partitions that have the same name:', ...listed]);
  }

  const tableEnd = (options.offset ?? DEFAULT_PARTITION_TABLE_OFFSET) + PARTITION_TABLE_SECTOR_SIZE;
  let last: PartitionEntry | undefined;
  for (const p of [...entries].sort((a, b) => a.offset - b.offset)) {
    if (p.offset < tableEnd && !isPrimaryBootloaderOrTable(p)) {
      throw tableError(`Partition offset ${hex(p.offset)} is below ${hex(tableEnd)}`);
    }
    if (last && p.offset < last.offset + last.size) {
      throw tableError(`Partition at ${hex(p.offset)} overlaps ${hex(last.offset)}-${hex(last.offset + last.size - 1)}`);
    }
    last = p;
  }

  checkUniqueOtadata(entries, SUBTYPE_OTA, 'otadata', 'ota', subtypes);
  checkUniqueOtadata(entries, SUBTYPE_TEE_OTA, 'TEE otadata', 'tee_ota', subtypes);
}

/** Where the partition with the highest offset ends (0 for an empty table). */
export function partitionTableFlashEnd(table: PartitionTable): number {
  let last: PartitionEntry | undefined;
  for (const e of table.entries) if (!last || e.offset > last.offset) last = e;
  return last ? last.offset + last.size : 0;
}

/** `--flash-size`: the table must end within `flashSize` bytes. */
export function verifyFlashSize(table: PartitionTable, flashSize: number): void {
  const end = partitionTableFlashEnd(table);
  if (flashSize < end) {
    const mb = 1024 * 1024;
    throw new PartitionTableError(
      `Partitions tables occupies ${pyFixed1(end, mb)}MB of flash (${end} bytes) which does not fit in configured flash size ${Math.trunc(flashSize / mb)}MB. Change the flash size in menuconfig under the 'Serial Flasher Config' menu.`,
      { code: 'flash-size' },
    );
  }
}
