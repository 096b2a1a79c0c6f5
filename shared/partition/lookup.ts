// Finding partitions in a table (by name, type, subtype) and checking an image fits its partition.
import { hex, pyIntBase0 } from './python-text.ts';
import {
  BUILTIN_SUBTYPES,
  PartitionTableError,
  TYPE_KEYWORDS,
  type PartitionEntry,
  type PartitionTable,
  type SubtypeKeywords,
} from './types.ts';

export interface PartitionQuery {
  name?: string;
  /** Number or keyword (`app`, `data`, …) or numeric text (`0x3F`). */
  type?: number | string;
  /** Number, numeric text, or a subtype keyword of the entry's type (`nvs`, `nvs_keys`, `ota_0`, …). */
  subtype?: number | string;
}

/** Custom type of esp-homekit-sdk's `sec_cert` partition in partitions_hap.csv. */
export const HOMEKIT_SEC_CERT_TYPE = 0x3f;

function resolveNumber(text: string, keywords: ReadonlyMap<string, number> | undefined): number | undefined {
  return pyIntBase0(text) ?? keywords?.get(text.trim().toLowerCase());
}

function matches(e: PartitionEntry, q: PartitionQuery, subtypes: SubtypeKeywords): boolean {
  if (q.name !== undefined && e.name !== q.name) return false;
  if (q.type !== undefined) {
    const type = typeof q.type === 'number' ? q.type : resolveNumber(q.type, TYPE_KEYWORDS);
    if (type === undefined) throw new PartitionTableError(`Unknown partition type '${q.type}'`, { code: 'option', field: 'type' });
    if (e.type !== type) return false;
  }
  if (q.subtype !== undefined) {
    const subtype = typeof q.subtype === 'number' ? q.subtype : resolveNumber(q.subtype, subtypes.get(e.type));
    if (e.subtype !== subtype) return false;
  }
  return true;
}

/** Every entry matching all given criteria, in table order. */
export function findPartitions(table: PartitionTable, query: PartitionQuery, subtypes: SubtypeKeywords = BUILTIN_SUBTYPES): PartitionEntry[] {
  return table.entries.filter((e) => matches(e, query, subtypes));
}

/** The first entry matching all given criteria. */
export function findPartition(table: PartitionTable, query: PartitionQuery, subtypes: SubtypeKeywords = BUILTIN_SUBTYPES): PartitionEntry | undefined {
  return table.entries.find((e) => matches(e, query, subtypes));
}

/** Like findPartition but throws a PartitionTableError naming what was looked for. */
export function requirePartition(table: PartitionTable, query: PartitionQuery, subtypes: SubtypeKeywords = BUILTIN_SUBTYPES): PartitionEntry {
  const found = findPartition(table, query, subtypes);
  if (!found) {
    const what = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'number' ? hex(v) : v}`);
    throw new PartitionTableError(`The partition table has no partition with ${what.join(', ') || 'any properties'}`, { code: 'table-invalid' });
  }
  return found;
}

/** Refuses an image larger than the partition it is meant for. */
export function checkImageFits(entry: PartitionEntry, imageSize: number): void {
  if (imageSize > entry.size) {
    throw new PartitionTableError(
      `Image of ${imageSize} bytes (${hex(imageSize)}) does not fit partition '${entry.name}' of ${entry.size} bytes (${hex(entry.size)}) at ${hex(entry.offset)}`,
      { code: 'out-of-range', partition: entry.name, field: 'size' },
    );
  }
}
