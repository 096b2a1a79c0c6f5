// Reads and verifies a plain ESP-IDF NVS partition image (spec nvs-format.md §14, modelled on
// ESP-IDF's nvs_partition_tool). Encrypted images must be decrypted first (see encryption.ts):
// page headers and bitmaps are plain, entries are not.
//
// Nothing here throws for damaged content: every CRC, state and span is checked and each finding
// becomes an NvsProblem naming the page (and slot) and what is wrong. Only input that is not an
// image at all (empty, or not a multiple of 4096 bytes) throws.
//
// Integer values are returned as `bigint` for every width (u8 … i64), so one type covers the full
// u64/i64 range without loss.
import { concatBytes } from '@noble/hashes/utils.js';
import {
  crc32,
  entryCrc,
  pageHeaderCrc,
  ENTRIES_PER_PAGE,
  ENTRY_STATE_EMPTY,
  ENTRY_STATE_ERASED,
  ENTRY_STATE_WRITTEN,
  ItemType,
  NVS_BITMAP_OFFSET,
  NVS_ENTRY_SIZE,
  NVS_FIRST_ENTRY_OFFSET,
  NVS_PAGE_SIZE,
  PAGE_STATE_ACTIVE,
  PAGE_STATE_CORRUPT,
  PAGE_STATE_EMPTY,
  PAGE_STATE_ERASING,
  PAGE_STATE_FULL,
  PAGE_VERSION_1,
  PAGE_VERSION_2,
  CHUNK_ANY,
} from './format.ts';

export type NvsIntegerType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';
export type NvsItemType = NvsIntegerType | 'string' | 'blob';
export type NvsPageState = 'EMPTY' | 'ACTIVE' | 'FULL' | 'ERASING' | 'CORRUPT' | 'INVALID';

export interface NvsPageInfo {
  index: number;
  /** Byte offset of the page in the image. */
  offset: number;
  state: NvsPageState;
  /** Raw header bytes 0..3. */
  stateWord: number;
  /** Sequence number; absent for EMPTY pages. */
  seq?: number;
  /** Header byte 8 (0xFF = version 1, 0xFE = version 2); absent for EMPTY pages. */
  versionByte?: number;
  version?: 1 | 2;
  /** Header CRC over bytes 4..27 matches; absent for EMPTY pages (nothing to check). */
  headerCrcOk?: boolean;
  writtenEntries: number;
  erasedEntries: number;
  /** The 32-byte entry-state bitmap as hex. */
  bitmapHex: string;
}

export interface NvsBlobChunk {
  chunkIndex: number;
  page: number;
  slot: number;
  size: number;
  span: number;
}

export interface NvsItem {
  /** Namespace name; '' when the item's namespace index has no definition (reported as a problem). */
  namespace: string;
  nsIndex: number;
  key: string;
  type: NvsItemType;
  /** bigint for integers, string (without its NUL) for strings, bytes for blobs. */
  value: bigint | string | Uint8Array;
  /** Where the item's header entry is: for a version-2 blob, its BLOB_IDX entry. */
  page: number;
  slot: number;
  span: number;
  /** Payload bytes for strings (incl. NUL) and blobs (total for version-2 blobs). */
  size?: number;
  /** Strings: did the payload end with 0x00 (the value never includes it). */
  nulTerminated?: boolean;
  /** Blobs: 'v1' = one BLOB entry, 'v2' = BLOB_IDX + BLOB_DATA chunks. */
  blobFormat?: 'v1' | 'v2';
  chunks?: NvsBlobChunk[];
  chunkStart?: number;
  /**
   * False when the value cannot be trusted (payload CRC mismatch, missing chunk, size mismatch…);
   * the reasons are in `problems`. {@link findItem} skips such items.
   */
  intact: boolean;
}

export type NvsProblemKind =
  | 'page-state'
  | 'page-not-erased'
  | 'header-crc'
  | 'page-version'
  | 'duplicate-seq'
  | 'bitmap-state'
  | 'slot-not-erased'
  | 'slot-after-empty'
  | 'entry-crc'
  | 'item-type'
  | 'span'
  | 'chunk-index'
  | 'key'
  | 'payload-state'
  | 'payload-crc'
  | 'namespace'
  | 'blob'
  | 'duplicate-key';

export interface NvsProblem {
  page: number;
  slot?: number;
  kind: NvsProblemKind;
  message: string;
}

/** Something unusual but not wrong (a read-only sized partition, a string without NUL…). */
export interface NvsWarning {
  page?: number;
  slot?: number;
  message: string;
}

export interface NvsNamespace {
  name: string;
  index: number;
  page: number;
  slot: number;
}

export interface NvsReadResult {
  pages: NvsPageInfo[];
  namespaces: NvsNamespace[];
  items: NvsItem[];
  problems: NvsProblem[];
  warnings: NvsWarning[];
}

const TYPE_NAMES: ReadonlyMap<number, NvsIntegerType | 'string' | 'blob' | 'blob-data' | 'blob-index'> = new Map([
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

const PAGE_STATES: ReadonlyMap<number, NvsPageState> = new Map([
  [PAGE_STATE_ACTIVE, 'ACTIVE'],
  [PAGE_STATE_FULL, 'FULL'],
  [PAGE_STATE_ERASING, 'ERASING'],
  [PAGE_STATE_CORRUPT, 'CORRUPT'],
] as const);

const ENTRY_STATE_NAMES = ['erased', 'invalid (01)', 'written', 'empty'] as const;

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function allErased(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

function isVariableLength(code: number): boolean {
  return code === ItemType.SZ || code === ItemType.BLOB || code === ItemType.BLOB_DATA;
}

const utf8 = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A header entry as found in a page, before namespaces and blobs are resolved. */
interface RawEntry {
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

class Collector {
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

function entryStateAt(bitmap: Uint8Array, slot: number): number {
  return (bitmap[slot >> 2]! >> ((slot & 3) * 2)) & 3;
}

/** Parse one page: header checks, bitmap, and the written entries it holds. */
function readPage(image: Uint8Array, index: number, out: Collector, entries: RawEntry[], crcStats: { written: number; bad: number }): NvsPageInfo {
  const offset = index * NVS_PAGE_SIZE;
  const page = image.subarray(offset, offset + NVS_PAGE_SIZE);
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const header = page.subarray(0, 32);
  const bitmap = page.subarray(NVS_BITMAP_OFFSET, NVS_FIRST_ENTRY_OFFSET);
  const stateWord = view.getUint32(0, true);
  const info: NvsPageInfo = { index, offset, state: 'EMPTY', stateWord, writtenEntries: 0, erasedEntries: 0, bitmapHex: toHex(bitmap) };

  if (allErased(header)) {
    // An EMPTY page must be erased throughout; anything else is left over from an interrupted write.
    if (!allErased(bitmap)) {
      out.problem('page-not-erased', index, undefined, 'page header is erased (EMPTY page) but its entry-state bitmap is not');
    } else {
      for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
        const at = NVS_FIRST_ENTRY_OFFSET + slot * NVS_ENTRY_SIZE;
        if (!allErased(page.subarray(at, at + NVS_ENTRY_SIZE))) {
          out.problem('page-not-erased', index, slot, 'page header is erased (EMPTY page) but this slot holds data');
          break;
        }
      }
    }
    return info;
  }

  info.state = PAGE_STATES.get(stateWord) ?? 'INVALID';
  info.seq = view.getUint32(4, true);
  info.versionByte = page[8]!;
  if (info.versionByte === PAGE_VERSION_1) info.version = 1;
  else if (info.versionByte === PAGE_VERSION_2) info.version = 2;
  else out.problem('page-version', index, undefined, `unknown format version byte 0x${info.versionByte.toString(16)} (expected 0xff = v1 or 0xfe = v2)`);
  const storedCrc = view.getUint32(28, true);
  const computedCrc = pageHeaderCrc(header);
  info.headerCrcOk = storedCrc === computedCrc;
  if (!info.headerCrcOk) {
    out.problem('header-crc', index, undefined, `page header CRC mismatch: stored ${hex32(storedCrc)}, bytes 4..27 give ${hex32(computedCrc)}`);
  }

  for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
    const s = entryStateAt(bitmap, slot);
    if (s === ENTRY_STATE_WRITTEN) info.writtenEntries++;
    else if (s === ENTRY_STATE_ERASED) info.erasedEntries++;
  }

  if (info.state === 'INVALID') {
    out.problem('page-state', index, undefined, `invalid page state word ${hex32(stateWord)} (expected ACTIVE 0xfffffffe or FULL 0xfffffffc)`);
  } else if (info.state === 'CORRUPT') {
    out.problem('page-state', index, undefined, 'page is marked CORRUPT (state 0x00000000); its entries are ignored');
    return info;
  } else if (info.state === 'ERASING') {
    out.warn(index, undefined, 'page is in state ERASING (being moved); its entries are ignored');
    return info;
  }

  readEntries(page, index, bitmap, out, entries, crcStats);
  return info;
}

function readEntries(page: Uint8Array, index: number, bitmap: Uint8Array, out: Collector, entries: RawEntry[], crcStats: { written: number; bad: number }): void {
  let seenEmpty = -1;
  let slot = 0;
  while (slot < ENTRIES_PER_PAGE) {
    const at = NVS_FIRST_ENTRY_OFFSET + slot * NVS_ENTRY_SIZE;
    const entry = page.subarray(at, at + NVS_ENTRY_SIZE);
    const state = entryStateAt(bitmap, slot);
    if (state === ENTRY_STATE_EMPTY) {
      if (!allErased(entry)) out.problem('slot-not-erased', index, slot, 'slot is marked empty in the bitmap but holds data');
      if (seenEmpty < 0) seenEmpty = slot;
      slot++;
      continue;
    }
    if (state === ENTRY_STATE_ERASED) {
      slot++; // a superseded value: ignored, as the runtime does
      continue;
    }
    if (state !== ENTRY_STATE_WRITTEN) {
      out.problem('bitmap-state', index, slot, `invalid entry state 01 in the bitmap (byte ${NVS_BITMAP_OFFSET + (slot >> 2)})`);
      slot++;
      continue;
    }
    if (seenEmpty >= 0) {
      out.problem('slot-after-empty', index, slot, `slot is written although slot ${seenEmpty} before it is empty (bitmap inconsistent)`);
      seenEmpty = -1; // report each hole once
    }
    slot += readItem(page, index, slot, entry, bitmap, out, entries, crcStats);
  }
}

/** Decode the item whose header is at `slot`; returns how many slots it covers (≥ 1). */
function readItem(
  page: Uint8Array,
  index: number,
  slot: number,
  entry: Uint8Array,
  bitmap: Uint8Array,
  out: Collector,
  entries: RawEntry[],
  crcStats: { written: number; bad: number },
): number {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const nsIndex = entry[0]!;
  const typeCode = entry[1]!;
  const rawSpan = entry[2]!;
  const chunkIndex = entry[3]!;
  const typeName = TYPE_NAMES.get(typeCode);
  const variable = isVariableLength(typeCode);
  const size = view.getUint16(24, true);
  const expectedSpan = variable ? 1 + Math.ceil(size / NVS_ENTRY_SIZE) : 1;
  const room = ENTRIES_PER_PAGE - slot;

  crcStats.written++;
  const storedCrc = view.getUint32(4, true);
  const computedCrc = entryCrc(entry);
  if (storedCrc !== computedCrc) {
    crcStats.bad++;
    out.problem('entry-crc', index, slot, `entry CRC mismatch: stored ${hex32(storedCrc)}, computed ${hex32(computedCrc)}`);
    // Header untrusted: follow its span only when it is self-consistent, else resync on the next slot.
    return typeName !== undefined && rawSpan === expectedSpan && rawSpan <= room ? rawSpan : 1;
  }

  let span = rawSpan;
  if (span === 0 || span === 0xff) {
    out.problem('span', index, slot, `invalid span ${span} (treated as 1)`);
    span = 1;
  }
  if (typeName === undefined) {
    out.problem('item-type', index, slot, `unknown item type 0x${typeCode.toString(16).padStart(2, '0')}`);
    return Math.min(span, room);
  }

  const keyField = entry.subarray(8, 24);
  const nul = keyField.indexOf(0);
  if (nul < 0) out.problem('key', index, slot, 'key field has no NUL terminator (key longer than 15 bytes)');
  const key = utf8.decode(keyField.subarray(0, nul < 0 ? 16 : nul));
  if (nul === 0) out.problem('key', index, slot, 'empty key');

  if (typeCode === ItemType.BLOB_DATA) {
    if (chunkIndex === CHUNK_ANY) out.problem('chunk-index', index, slot, 'blob chunk has chunk index 0xff');
  } else if (chunkIndex !== CHUNK_ANY) {
    out.problem('chunk-index', index, slot, `chunk index ${chunkIndex} on a ${typeName} item (expected 0xff)`);
  }

  let intact = true;
  if (span !== expectedSpan) {
    out.problem('span', index, slot, variable
      ? `span ${span} does not match payload size ${size} (needs ${expectedSpan} slots)`
      : `span ${span} on a ${typeName} item (expected 1)`);
    intact = false;
  }
  if (span > room) {
    out.problem('span', index, slot, `span ${span} runs past the end of the page (only ${room} slots from slot ${slot})`);
    span = room;
    intact = false;
  }

  const raw: RawEntry = { page: index, slot, nsIndex, typeCode, span, chunkIndex, key, data: entry.slice(24, 32), intact };
  if (variable) {
    for (let p = slot + 1; p < slot + span; p++) {
      const s = entryStateAt(bitmap, p);
      if (s !== ENTRY_STATE_WRITTEN) {
        out.problem('payload-state', index, p, `payload slot of the item at slot ${slot} is ${ENTRY_STATE_NAMES[s]} in the bitmap (expected written)`);
        raw.intact = false;
      }
    }
    const start = NVS_FIRST_ENTRY_OFFSET + (slot + 1) * NVS_ENTRY_SIZE;
    const available = (span - 1) * NVS_ENTRY_SIZE;
    const payload = page.slice(start, start + Math.min(size, available));
    raw.payload = payload;
    raw.size = size;
    const storedData = view.getUint32(28, true);
    const computedData = crc32(payload);
    if (payload.length === size && storedData !== computedData) {
      out.problem('payload-crc', index, slot, `payload CRC mismatch: stored ${hex32(storedData)}, ${size} payload bytes give ${hex32(computedData)}`);
      raw.intact = false;
    } else if (payload.length < size) {
      raw.intact = false; // already reported as a span problem
    }
  }
  entries.push(raw);
  return span;
}

function decodeInteger(type: NvsIntegerType, data: Uint8Array): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (type) {
    case 'u8': return BigInt(view.getUint8(0));
    case 'i8': return BigInt(view.getInt8(0));
    case 'u16': return BigInt(view.getUint16(0, true));
    case 'i16': return BigInt(view.getInt16(0, true));
    case 'u32': return BigInt(view.getUint32(0, true));
    case 'i32': return BigInt(view.getInt32(0, true));
    case 'u64': return view.getBigUint64(0, true);
    case 'i64': return view.getBigInt64(0, true);
  }
}


/** Parse and verify a plain NVS image. Throws only when `image` is not a whole number of pages. */
export function readNvsImage(image: Uint8Array): NvsReadResult {
  if (image.length === 0 || image.length % NVS_PAGE_SIZE !== 0) {
    throw new Error(`NVS image is ${image.length} bytes; it must be a non-empty multiple of ${NVS_PAGE_SIZE} bytes`);
  }
  const out = new Collector();
  const entries: RawEntry[] = [];
  const crcStats = { written: 0, bad: 0 };
  const pages: NvsPageInfo[] = [];
  for (let i = 0; i < image.length / NVS_PAGE_SIZE; i++) pages.push(readPage(image, i, out, entries, crcStats));

  checkPageSet(pages, out);
  if (crcStats.written > 0 && crcStats.bad === crcStats.written) {
    out.warn(undefined, undefined, 'every written entry fails its CRC: the image is probably encrypted (decrypt it with its keys first)');
  }

  const namespaces = resolveNamespaces(entries, out);
  const byIndex = new Map(namespaces.map((n) => [n.index, n.name] as const));
  const items = buildItems(entries, byIndex, out);
  checkDuplicates(items, out);
  for (const ns of namespaces) {
    if (!items.some((it) => it.nsIndex === ns.index)) out.warn(ns.page, ns.slot, `namespace '${ns.name}' (index ${ns.index}) has no items`);
  }
  out.problems.sort((a, b) => a.page - b.page || (a.slot ?? -1) - (b.slot ?? -1));
  return { pages, namespaces, items, problems: out.problems, warnings: out.warnings };
}

function checkPageSet(pages: NvsPageInfo[], out: Collector): void {
  const seqOwner = new Map<number, number>();
  for (const p of pages) {
    if (p.seq === undefined || p.state === 'EMPTY') continue;
    const first = seqOwner.get(p.seq);
    if (first !== undefined) out.problem('duplicate-seq', p.index, undefined, `sequence number ${p.seq} already used by page ${first}`);
    else seqOwner.set(p.seq, p.index);
  }
  const versions = new Set(pages.map((p) => p.version).filter((v) => v !== undefined));
  if (versions.size > 1) out.warn(undefined, undefined, 'pages mix format versions 1 and 2');
  if (pages.length < 3) {
    out.warn(undefined, undefined, `${pages.length} page(s): a read/write NVS partition needs at least 3 (fine for a partition flagged readonly)`);
  } else if (!pages.some((p) => p.state === 'EMPTY')) {
    out.warn(undefined, undefined, 'no EMPTY page: a read/write NVS partition needs one free page');
  }
}

function resolveNamespaces(entries: RawEntry[], out: Collector): NvsNamespace[] {
  const namespaces: NvsNamespace[] = [];
  const seen = new Map<number, NvsNamespace>();
  for (const e of entries) {
    if (e.nsIndex !== 0 || e.typeCode !== ItemType.U8) continue;
    const index = e.data[0]!;
    if (index === 0 || index === 0xff) {
      out.problem('namespace', e.page, e.slot, `namespace '${e.key}' has reserved index ${index}`);
      continue;
    }
    const prior = seen.get(index);
    if (prior) {
      out.problem('namespace', e.page, e.slot, `namespace index ${index} defined again as '${e.key}' (first '${prior.name}' at page ${prior.page} slot ${prior.slot})`);
      continue;
    }
    const ns = { name: e.key, index, page: e.page, slot: e.slot };
    seen.set(index, ns);
    namespaces.push(ns);
  }
  return namespaces;
}

function buildItems(entries: RawEntry[], namespaceNames: Map<number, string>, out: Collector): NvsItem[] {
  const items: NvsItem[] = [];
  const chunks = new Map<string, RawEntry>(); // "ns/key/chunkIndex" → BLOB_DATA entry
  const usedChunks = new Set<RawEntry>();
  const chunkKey = (ns: number, key: string, c: number) => `${ns}\u0000${key}\u0000${c}`;

  for (const e of entries) {
    if (e.typeCode !== ItemType.BLOB_DATA) continue;
    const k = chunkKey(e.nsIndex, e.key, e.chunkIndex);
    const prior = chunks.get(k);
    if (prior) out.problem('duplicate-key', e.page, e.slot, `blob '${e.key}' chunk ${e.chunkIndex} written twice (also at page ${prior.page} slot ${prior.slot})`);
    else chunks.set(k, e);
  }

  for (const e of entries) {
    if (e.nsIndex === 0 && e.typeCode === ItemType.U8) continue; // namespace definition
    if (e.typeCode === ItemType.BLOB_DATA) continue; // collected through its index
    let namespace = namespaceNames.get(e.nsIndex);
    if (namespace === undefined) {
      out.problem('namespace', e.page, e.slot, e.nsIndex === 0
        ? `item '${e.key}' has namespace index 0 (written before any namespace)`
        : `item '${e.key}' refers to namespace index ${e.nsIndex}, which is not defined`);
      namespace = '';
    }
    const base = { namespace, nsIndex: e.nsIndex, key: e.key, page: e.page, slot: e.slot, span: e.span };
    const typeName = TYPE_NAMES.get(e.typeCode)!;
    if (typeName === 'string') {
      const payload = e.payload!;
      const nulTerminated = payload.length > 0 && payload[payload.length - 1] === 0 && payload.length === e.size;
      const text = nulTerminated ? payload.subarray(0, payload.length - 1) : payload;
      let value: string;
      try {
        value = utf8Strict.decode(text);
      } catch {
        value = utf8.decode(text);
        out.warn(e.page, e.slot, `string '${e.key}' is not valid UTF-8`);
      }
      if (!nulTerminated && e.intact) out.warn(e.page, e.slot, `string '${e.key}' has no NUL terminator`);
      items.push({ ...base, type: 'string', value, size: e.size!, nulTerminated, intact: e.intact });
    } else if (typeName === 'blob') {
      items.push({ ...base, type: 'blob', value: e.payload!, size: e.size!, blobFormat: 'v1', intact: e.intact });
    } else if (typeName === 'blob-index') {
      items.push({ ...base, ...assembleBlob(e, chunks, usedChunks, chunkKey, out) });
    } else {
      items.push({ ...base, type: typeName as NvsIntegerType, value: decodeInteger(typeName as NvsIntegerType, e.data), intact: e.intact });
    }
  }

  for (const c of chunks.values()) {
    if (!usedChunks.has(c)) {
      out.problem('blob', c.page, c.slot, `blob '${c.key}' chunk ${c.chunkIndex} belongs to no blob index`);
    }
  }
  return items;
}

function assembleBlob(
  idx: RawEntry,
  chunks: Map<string, RawEntry>,
  used: Set<RawEntry>,
  chunkKey: (ns: number, key: string, c: number) => string,
  out: Collector,
): Pick<NvsItem, 'type' | 'value' | 'size' | 'blobFormat' | 'chunks' | 'chunkStart' | 'intact'> {
  const view = new DataView(idx.data.buffer, idx.data.byteOffset, idx.data.byteLength);
  const size = view.getUint32(0, true);
  const count = idx.data[4]!;
  const start = idx.data[5]!;
  let intact = idx.intact;
  const parts: Uint8Array[] = [];
  const found: NvsBlobChunk[] = [];
  for (let c = start; c < start + count; c++) {
    const chunk = chunks.get(chunkKey(idx.nsIndex, idx.key, c));
    if (!chunk) {
      out.problem('blob', idx.page, idx.slot, `blob '${idx.key}': chunk ${c} of ${start}..${start + count - 1} is missing`);
      intact = false;
      continue;
    }
    used.add(chunk);
    if (!chunk.intact) intact = false;
    parts.push(chunk.payload!);
    found.push({ chunkIndex: c, page: chunk.page, slot: chunk.slot, size: chunk.size!, span: chunk.span });
  }
  const value = concatBytes(...parts);
  if (intact && value.length !== size) {
    out.problem('blob', idx.page, idx.slot, `blob '${idx.key}': index says ${size} bytes, its chunks hold ${value.length}`);
    intact = false;
  }
  return { type: 'blob', value, size, blobFormat: 'v2', chunks: found, chunkStart: start, intact };
}

function checkDuplicates(items: NvsItem[], out: Collector): void {
  const seen = new Map<string, NvsItem>();
  for (const it of items) {
    const k = `${it.nsIndex}\u0000${it.key}`;
    const prior = seen.get(k);
    if (prior) {
      out.problem('duplicate-key', it.page, it.slot, `key '${it.key}' in namespace '${it.namespace}' is written twice (also at page ${prior.page} slot ${prior.slot})`);
    } else {
      seen.set(k, it);
    }
  }
}

/** The first intact item with this namespace name and key, in flash order. */
export function findItem(result: NvsReadResult, namespace: string, key: string): NvsItem | undefined {
  return result.items.find((it) => it.intact && it.namespace === namespace && it.key === key);
}

/** Blob bytes of `namespace/key` (either blob format), or undefined if absent, damaged or not a blob. */
export function findBlob(result: NvsReadResult, namespace: string, key: string): Uint8Array | undefined {
  const it = findItem(result, namespace, key);
  return it?.type === 'blob' ? (it.value as Uint8Array) : undefined;
}

/** String value of `namespace/key`, or undefined if absent, damaged or not a string. */
export function findString(result: NvsReadResult, namespace: string, key: string): string | undefined {
  const it = findItem(result, namespace, key);
  return it?.type === 'string' ? (it.value as string) : undefined;
}

/** Integer value of `namespace/key`, or undefined if absent, damaged or not an integer. */
export function findInteger(result: NvsReadResult, namespace: string, key: string): bigint | undefined {
  const it = findItem(result, namespace, key);
  return typeof it?.value === 'bigint' ? it.value : undefined;
}

/** "page 2 slot 17: entry CRC mismatch …" */
export function formatProblem(p: { page?: number; slot?: number; message: string }): string {
  if (p.page === undefined) return p.message;
  return p.slot === undefined ? `page ${p.page}: ${p.message}` : `page ${p.page} slot ${p.slot}: ${p.message}`;
}
