// Public result types of the NVS image reader (reader.ts): pages, namespaces, items, problems and
// warnings. Kept apart from the parsing code so the CLI, flasher and tests can see the shape of a
// verification result without the page scanner, and so the scanner files stay short.

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
   * the reasons are in `problems`. findItem (reader.ts) skips such items.
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
