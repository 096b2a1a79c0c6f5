// ESP-IDF NVS on-flash format constants and the CRC32 variant NVS uses.
// See shared/spec/nvs-format.md §1–§5.

export const NVS_PAGE_SIZE = 4096;
export const NVS_ENTRY_SIZE = 32;
/** Bytes 0..31 page header, 32..63 entry-state bitmap. */
export const NVS_PAGE_HEADER_SIZE = 32;
export const NVS_BITMAP_OFFSET = 32;
export const NVS_BITMAP_SIZE = 32;
/** Offset of slot 0 inside a page. */
export const NVS_FIRST_ENTRY_OFFSET = 64;
export const ENTRIES_PER_PAGE = 126;
export const NVS_KEY_SIZE = 16;
/** Longest key/namespace name: the 16-byte field always keeps one NUL. */
export const NVS_MAX_KEY_LENGTH = 15;

/** Page state words (header bytes 0..3). */
export const PAGE_STATE_EMPTY = 0xffffffff;
export const PAGE_STATE_ACTIVE = 0xfffffffe;
export const PAGE_STATE_FULL = 0xfffffffc;
export const PAGE_STATE_ERASING = 0xfffffff8;
export const PAGE_STATE_CORRUPT = 0x00000000;

/** Header byte 8; each format revision counts down from 0xFF (version = 256 − byte). */
export const PAGE_VERSION_1 = 0xff;
export const PAGE_VERSION_2 = 0xfe;

/** Two-bit entry states in the bitmap. */
export const ENTRY_STATE_EMPTY = 0b11;
export const ENTRY_STATE_WRITTEN = 0b10;
export const ENTRY_STATE_ERASED = 0b00;

/** Item type codes (entry byte 1). Low nibble = width for integers, high nibble 1 = signed. */
export const ItemType = {
  U8: 0x01,
  I8: 0x11,
  U16: 0x02,
  I16: 0x12,
  U32: 0x04,
  I32: 0x14,
  U64: 0x08,
  I64: 0x18,
  SZ: 0x21,
  BLOB: 0x41,
  BLOB_DATA: 0x42,
  BLOB_IDX: 0x48,
  ANY: 0xff,
} as const;
export type ItemTypeCode = (typeof ItemType)[keyof typeof ItemType];

export type IntegerEncoding = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';

export interface IntegerTypeInfo {
  readonly code: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly signed: boolean;
}

export const INTEGER_TYPES: Readonly<Record<IntegerEncoding, IntegerTypeInfo>> = {
  u8: { code: ItemType.U8, width: 1, signed: false },
  i8: { code: ItemType.I8, width: 1, signed: true },
  u16: { code: ItemType.U16, width: 2, signed: false },
  i16: { code: ItemType.I16, width: 2, signed: true },
  u32: { code: ItemType.U32, width: 4, signed: false },
  i32: { code: ItemType.I32, width: 4, signed: true },
  u64: { code: ItemType.U64, width: 8, signed: false },
  i64: { code: ItemType.I64, width: 8, signed: true },
};

/** Entry field offsets inside a 32-byte entry. */
export const ENTRY_NS_OFFSET = 0;
export const ENTRY_TYPE_OFFSET = 1;
export const ENTRY_SPAN_OFFSET = 2;
export const ENTRY_CHUNK_INDEX_OFFSET = 3;
export const ENTRY_CRC_OFFSET = 4;
export const ENTRY_KEY_OFFSET = 8;
export const ENTRY_DATA_OFFSET = 24;
/** Chunk index value for everything except BLOB_DATA. */
export const CHUNK_ANY = 0xff;

/** Page header field offsets. */
export const HEADER_STATE_OFFSET = 0;
export const HEADER_SEQ_OFFSET = 4;
export const HEADER_VERSION_OFFSET = 8;
export const HEADER_CRC_OFFSET = 28;

/** Payload limits (bytes, string payload includes its NUL). */
export const MAX_VAR_LEN_V1 = 1984;
export const MAX_STRING_LEN_V2 = 4000;

/** Keys file (nvs_keys partition): eky(32) ‖ tky(32) ‖ crc32 LE ‖ 0xFF… */
export const NVS_KEY_FILE_SIZE = 4096;
export const NVS_XTS_KEY_SIZE = 32;

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32 as NVS computes it (ESP ROM `crc32_le(0xFFFFFFFF, …)`, zlib `crc32(data, 0xFFFFFFFF)`):
 * reflected poly 0xEDB88320, `init` is a "previous CRC" that is inverted first, final XOR 0xFFFFFFFF.
 * With the default init the register starts at 0, so crc32("123456789") = 0xD202D277, crc32("") = 0xFFFFFFFF.
 * Pass a previous result as `init` to continue a CRC over several pieces.
 */
export function crc32(data: Uint8Array, init: number = 0xffffffff): number {
  let c = ~init >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Entry CRC: bytes 0..3 followed by 8..31 of a 32-byte entry. */
export function entryCrc(entry: Uint8Array): number {
  return crc32(entry.subarray(8, 32), crc32(entry.subarray(0, 4)));
}

/** Page header CRC: bytes 4..27 of the page header. */
export function pageHeaderCrc(header: Uint8Array): number {
  return crc32(header.subarray(4, 28));
}
