// Internals shared by the NVS reader's two passes (reader-pages.ts scans pages into raw entries,
// reader-items.ts turns those into namespaces and items): the raw entry record handed from one to
// the other, the item-type names, the text decoders, and the Collector both report findings to.
// Not part of the public API: reader.ts exports only the result types and the read/find helpers.
import { ItemType } from './format.ts';
import type { NvsIntegerType, NvsProblem, NvsProblemKind, NvsWarning } from './reader-types.ts';

export type RawTypeName = NvsIntegerType | 'string' | 'blob' | 'blob-data' | 'blob-index';

export const TYPE_NAMES: ReadonlyMap<number, RawTypeName> = new Map([
  [ItemType.U8, 'u8'],
  [ItemType.I8, 'i8'],
  [ItemType.U16, 'u16'],
  [ItemType.I16, 'i16'],
  [ItemType.U32, 'u32'],
  [ItemType.I32, 'i32'],
  [ItemType.U64, 'u64'],
  [ItemType.I64, 'i64'],
  [ItemType.SZ, 'string'],
  [ItemType.BLOB, 'blob'],
  [ItemType.BLOB_DATA, 'blob-data'],
  [ItemType.BLOB_IDX, 'blob-index'],
] as const);

export const utf8 = new TextDecoder('utf-8');
export const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** A header entry as found in a page, before namespaces and blobs are resolved. */
export interface RawEntry {
  page: number;
  slot: number;
  nsIndex: number;
  typeCode: number;
  span: number;
  chunkIndex: number;
  key: string;
  data: Uint8Array; // bytes 24..31
  payload?: Uint8Array; // variable-length items: the first `size` payload bytes found
  size?: number;
  intact: boolean;
}

/** Gathers problems (something is wrong) and warnings (something is unusual) as the reader finds them. */
export class Collector {
  readonly problems: NvsProblem[] = [];
  readonly warnings: NvsWarning[] = [];
  problem(kind: NvsProblemKind, page: number, slot: number | undefined, message: string): void {
    this.problems.push(slot === undefined ? { page, kind, message } : { page, slot, kind, message });
  }
  warn(page: number | undefined, slot: number | undefined, message: string): void {
    const w: NvsWarning = { message };
    if (page !== undefined) w.page = page;
    if (slot !== undefined) w.slot = slot;
    this.warnings.push(w);
  }
}
