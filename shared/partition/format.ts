// Table → CSV text, exactly as gen_esp32part.py writes it for binary input (NAME.rev.csv).
import { hex } from './python-text.ts';
import { BUILTIN_SUBTYPES, TYPE_KEYWORDS, type PartitionEntry, type PartitionTable, type SubtypeKeywords } from './types.ts';

function keywordFor(value: number, keywords: ReadonlyMap<string, number> | undefined): string {
  for (const [name, v] of keywords ?? []) if (v === value) return name;
  return String(value);
}

/** Sizes as `<n>M`, else `<n>K`, else hex; offsets always hex. */
function formatSize(size: number): string {
  if (size % 0x100000 === 0) return `${size / 0x100000}M`;
  if (size % 0x400 === 0) return `${size / 0x400}K`;
  return hex(size);
}

export function formatFlags(flags: PartitionEntry['flags']): string {
  return [flags.encrypted && 'encrypted', flags.readonly && 'readonly'].filter(Boolean).join(':');
}

/** One CSV row (no line end): name,type,subtype,offset,size,flags. */
export function partitionEntryToCsv(entry: PartitionEntry, subtypes: SubtypeKeywords = BUILTIN_SUBTYPES): string {
  return [
    entry.name,
    keywordFor(entry.type, TYPE_KEYWORDS),
    keywordFor(entry.subtype, subtypes.get(entry.type)),
    hex(entry.offset),
    formatSize(entry.size),
    formatFlags(entry.flags),
  ].join(',');
}

export function partitionTableToCsv(table: PartitionTable, options: { subtypes?: SubtypeKeywords } = {}): string {
  const rows = ['# ESP-IDF Partition Table', '# Name, Type, SubType, Offset, Size, Flags'];
  for (const e of table.entries) rows.push(partitionEntryToCsv(e, options.subtypes));
  return rows.join('\n') + '\n';
}
