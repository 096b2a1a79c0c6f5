// First pass of the NVS reader: page by page, check the header (state, version, CRC), the entry-state
// bitmap and every written entry's header, CRC, span and payload, and collect the entries as raw
// records for reader-items.ts. Also the checks across the page set (sequence numbers, free page).
// Every finding goes to the Collector; nothing here throws.
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
  PAGE_STATE_ERASING,
  PAGE_STATE_FULL,
  PAGE_VERSION_1,
  PAGE_VERSION_2,
  CHUNK_ANY,
} from './format.ts';
import { Collector, hex32, TYPE_NAMES, utf8, type RawEntry, type RawTypeName } from './reader-common.ts';
import type { NvsPageInfo, NvsPageState } from './reader-types.ts';

/** Written entries seen and how many failed their CRC (all failing hints at an encrypted image). */
export interface CrcStats {
  written: number;
  bad: number;
}

const PAGE_STATES: ReadonlyMap<number, NvsPageState> = new Map([
  [PAGE_STATE_ACTIVE, 'ACTIVE'],
  [PAGE_STATE_FULL, 'FULL'],
  [PAGE_STATE_ERASING, 'ERASING'],
  [PAGE_STATE_CORRUPT, 'CORRUPT'],
] as const);

const ENTRY_STATE_NAMES = ['erased', 'invalid (01)', 'written', 'empty'] as const;

/** One page being scanned: its bytes and bitmap, and where findings and entries go. */
interface PageScan {
  page: Uint8Array;
  index: number;
  bitmap: Uint8Array;
  out: Collector;
  entries: RawEntry[];
  crcStats: CrcStats;
}

/** The fields of an item's header entry as stored, before any of them is checked. */
interface ItemHeader {
  nsIndex: number;
  typeCode: number;
  rawSpan: number;
  chunkIndex: number;
  typeName: RawTypeName | undefined;
  variable: boolean;
  size: number;
  expectedSpan: number;
  /** Slots from the header's slot to the end of the page. */
  room: number;
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

function entryStateAt(bitmap: Uint8Array, slot: number): number {
  return (bitmap[slot >> 2]! >> ((slot & 3) * 2)) & 3;
}

function entryAt(page: Uint8Array, slot: number): Uint8Array {
  const at = NVS_FIRST_ENTRY_OFFSET + slot * NVS_ENTRY_SIZE;
  return page.subarray(at, at + NVS_ENTRY_SIZE);
}

/** Parse one page: header checks, bitmap, and the written entries it holds. */
export function readPage(image: Uint8Array, index: number, out: Collector, entries: RawEntry[], crcStats: CrcStats): NvsPageInfo {
  const offset = index * NVS_PAGE_SIZE;
  const page = image.subarray(offset, offset + NVS_PAGE_SIZE);
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const header = page.subarray(0, 32);
  const bitmap = page.subarray(NVS_BITMAP_OFFSET, NVS_FIRST_ENTRY_OFFSET);
  const stateWord = view.getUint32(0, true);
  const info: NvsPageInfo = { index, offset, state: 'EMPTY', stateWord, writtenEntries: 0, erasedEntries: 0, bitmapHex: toHex(bitmap) };

  if (allErased(header)) {
    checkEmptyPage(page, index, bitmap, out);
    return info;
  }
  readHeader(page, info, out);
  for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
    const s = entryStateAt(bitmap, slot);
    if (s === ENTRY_STATE_WRITTEN) info.writtenEntries++;
    else if (s === ENTRY_STATE_ERASED) info.erasedEntries++;
  }
  if (!checkPageState(info, out)) return info;
  readEntries({ page, index, bitmap, out, entries, crcStats });
  return info;
}

/** An EMPTY page must be erased throughout; anything else is left over from an interrupted write. */
function checkEmptyPage(page: Uint8Array, index: number, bitmap: Uint8Array, out: Collector): void {
  if (!allErased(bitmap)) {
    out.problem('page-not-erased', index, undefined, 'page header is erased (EMPTY page) but its entry-state bitmap is not');
    return;
  }
  for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
    if (!allErased(entryAt(page, slot))) {
      out.problem('page-not-erased', index, slot, 'page header is erased (EMPTY page) but this slot holds data');
      return;
    }
  }
}

/** State, sequence number, format version and header CRC of a page that is not EMPTY. */
function readHeader(page: Uint8Array, info: NvsPageInfo, out: Collector): void {
  const view = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const index = info.index;
  info.state = PAGE_STATES.get(info.stateWord) ?? 'INVALID';
  info.seq = view.getUint32(4, true);
  info.versionByte = page[8]!;
  if (info.versionByte === PAGE_VERSION_1) info.version = 1;
  else if (info.versionByte === PAGE_VERSION_2) info.version = 2;
  else out.problem('page-version', index, undefined, `unknown format version byte 0x${info.versionByte.toString(16)} (expected 0xff = v1 or 0xfe = v2)`);
  const storedCrc = view.getUint32(28, true);
  const computedCrc = pageHeaderCrc(page.subarray(0, 32));
  info.headerCrcOk = storedCrc === computedCrc;
  if (!info.headerCrcOk) {
    out.problem('header-crc', index, undefined, `page header CRC mismatch: stored ${hex32(storedCrc)}, bytes 4..27 give ${hex32(computedCrc)}`);
  }
}

/** Report an unusual page state; false when the page's entries are to be ignored (CORRUPT, ERASING). */
function checkPageState(info: NvsPageInfo, out: Collector): boolean {
  if (info.state === 'INVALID') {
    out.problem('page-state', info.index, undefined, `invalid page state word ${hex32(info.stateWord)} (expected ACTIVE 0xfffffffe or FULL 0xfffffffc)`);
  } else if (info.state === 'CORRUPT') {
    out.problem('page-state', info.index, undefined, 'page is marked CORRUPT (state 0x00000000); its entries are ignored');
    return false;
  } else if (info.state === 'ERASING') {
    out.warn(info.index, undefined, 'page is in state ERASING (being moved); its entries are ignored');
    return false;
  }
  return true;
}

function readEntries(scan: PageScan): void {
  const { index, bitmap, out } = scan;
  let seenEmpty = -1;
  let slot = 0;
  while (slot < ENTRIES_PER_PAGE) {
    const entry = entryAt(scan.page, slot);
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
    slot += readItem(scan, slot, entry);
  }
}

function itemHeader(entry: Uint8Array, slot: number): ItemHeader {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const typeCode = entry[1]!;
  const variable = isVariableLength(typeCode);
  const size = view.getUint16(24, true);
  return {
    nsIndex: entry[0]!,
    typeCode,
    rawSpan: entry[2]!,
    chunkIndex: entry[3]!,
    typeName: TYPE_NAMES.get(typeCode),
    variable,
    size,
    expectedSpan: variable ? 1 + Math.ceil(size / NVS_ENTRY_SIZE) : 1,
    room: ENTRIES_PER_PAGE - slot,
  };
}

/** Decode the item whose header is at `slot`; returns how many slots it covers (≥ 1). */
function readItem(scan: PageScan, slot: number, entry: Uint8Array): number {
  const h = itemHeader(entry, slot);
  if (!entryCrcOk(scan, slot, entry)) {
    // Header untrusted: follow its span only when it is self-consistent, else resync on the next slot.
    return h.typeName !== undefined && h.rawSpan === h.expectedSpan && h.rawSpan <= h.room ? h.rawSpan : 1;
  }
  let span = h.rawSpan;
  if (span === 0 || span === 0xff) {
    scan.out.problem('span', scan.index, slot, `invalid span ${span} (treated as 1)`);
    span = 1;
  }
  if (h.typeName === undefined) {
    scan.out.problem('item-type', scan.index, slot, `unknown item type 0x${h.typeCode.toString(16).padStart(2, '0')}`);
    return Math.min(span, h.room);
  }
  const key = readKey(scan, slot, entry);
  checkChunkIndex(scan, slot, h, h.typeName);
  const fitted = checkSpan(scan, slot, h, h.typeName, span);
  const raw: RawEntry = {
    page: scan.index, slot, nsIndex: h.nsIndex, typeCode: h.typeCode, span: fitted.span, chunkIndex: h.chunkIndex, key, data: entry.slice(24, 32), intact: fitted.intact,
  };
  if (h.variable) readPayload(scan, slot, entry, raw, h.size);
  scan.entries.push(raw);
  return fitted.span;
}

function entryCrcOk(scan: PageScan, slot: number, entry: Uint8Array): boolean {
  scan.crcStats.written++;
  const storedCrc = new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint32(4, true);
  const computedCrc = entryCrc(entry);
  if (storedCrc === computedCrc) return true;
  scan.crcStats.bad++;
  scan.out.problem('entry-crc', scan.index, slot, `entry CRC mismatch: stored ${hex32(storedCrc)}, computed ${hex32(computedCrc)}`);
  return false;
}

function readKey(scan: PageScan, slot: number, entry: Uint8Array): string {
  const keyField = entry.subarray(8, 24);
  const nul = keyField.indexOf(0);
  if (nul < 0) scan.out.problem('key', scan.index, slot, 'key field has no NUL terminator (key longer than 15 bytes)');
  const key = utf8.decode(keyField.subarray(0, nul < 0 ? 16 : nul));
  if (nul === 0) scan.out.problem('key', scan.index, slot, 'empty key');
  return key;
}

function checkChunkIndex(scan: PageScan, slot: number, h: ItemHeader, typeName: RawTypeName): void {
  if (h.typeCode === ItemType.BLOB_DATA) {
    if (h.chunkIndex === CHUNK_ANY) scan.out.problem('chunk-index', scan.index, slot, 'blob chunk has chunk index 0xff');
  } else if (h.chunkIndex !== CHUNK_ANY) {
    scan.out.problem('chunk-index', scan.index, slot, `chunk index ${h.chunkIndex} on a ${typeName} item (expected 0xff)`);
  }
}

/** The span must match the payload size and stay inside the page; a span past the end is cut there. */
function checkSpan(scan: PageScan, slot: number, h: ItemHeader, typeName: RawTypeName, span: number): { span: number; intact: boolean } {
  let intact = true;
  if (span !== h.expectedSpan) {
    scan.out.problem('span', scan.index, slot, h.variable
      ? `span ${span} does not match payload size ${h.size} (needs ${h.expectedSpan} slots)`
      : `span ${span} on a ${typeName} item (expected 1)`);
    intact = false;
  }
  if (span > h.room) {
    scan.out.problem('span', scan.index, slot, `span ${span} runs past the end of the page (only ${h.room} slots from slot ${slot})`);
    span = h.room;
    intact = false;
  }
  return { span, intact };
}

/** Payload of a string / blob / blob-chunk item: its slots' states and its CRC. */
function readPayload(scan: PageScan, slot: number, entry: Uint8Array, raw: RawEntry, size: number): void {
  const { index, out } = scan;
  for (let p = slot + 1; p < slot + raw.span; p++) {
    const s = entryStateAt(scan.bitmap, p);
    if (s !== ENTRY_STATE_WRITTEN) {
      out.problem('payload-state', index, p, `payload slot of the item at slot ${slot} is ${ENTRY_STATE_NAMES[s]} in the bitmap (expected written)`);
      raw.intact = false;
    }
  }
  const start = NVS_FIRST_ENTRY_OFFSET + (slot + 1) * NVS_ENTRY_SIZE;
  const available = (raw.span - 1) * NVS_ENTRY_SIZE;
  const payload = scan.page.slice(start, start + Math.min(size, available));
  raw.payload = payload;
  raw.size = size;
  const storedData = new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint32(28, true);
  const computedData = crc32(payload);
  if (payload.length === size && storedData !== computedData) {
    out.problem('payload-crc', index, slot, `payload CRC mismatch: stored ${hex32(storedData)}, ${size} payload bytes give ${hex32(computedData)}`);
    raw.intact = false;
  } else if (payload.length < size) {
    raw.intact = false; // already reported as a span problem
  }
}

/** Checks across pages: unique sequence numbers, one format version, enough pages and a free one. */
export function checkPageSet(pages: NvsPageInfo[], out: Collector): void {
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
