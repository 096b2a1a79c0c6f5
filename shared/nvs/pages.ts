// Page/slot placement of NVS items (spec §7): which page and slot each entry lands in, page
// states, the page budget and how the image is finished for each generator layout.
import {
  CHUNK_ANY,
  ENTRIES_PER_PAGE,
  ItemType,
  MAX_STRING_LEN_V2,
  MAX_VAR_LEN_V1,
  NVS_ENTRY_SIZE,
  NVS_FIRST_ENTRY_OFFSET,
  NVS_KEY_SIZE,
  NVS_PAGE_SIZE,
  PAGE_STATE_ACTIVE,
  PAGE_STATE_FULL,
  PAGE_VERSION_1,
  PAGE_VERSION_2,
  crc32,
  entryCrc,
  pageHeaderCrc,
} from './format.ts';
import { NvsInputError, type NvsErrorLocation } from './errors.ts';

/**
 * How pages are stated and trailing pages written:
 * - `upstream`: esp-idf-nvs-partition-gen 0.2.0 — pages left behind FULL, last used page ACTIVE,
 *   the rest 0xFF; sizes 0x1000/0x2000 are read-only images holding only the used pages.
 * - `idf52`: ESP-IDF ≤ v5.2 — every page FULL, unused pages get a FULL header.
 * - `homekit`: esp-homekit-sdk copy — every page ACTIVE, unused pages get an ACTIVE header.
 * The last page of a read/write partition is always reserved (all 0xFF).
 */
export type NvsLayout = 'upstream' | 'homekit' | 'idf52';

export interface PartitionGeometry {
  /** Pages items may be written to. */
  usablePages: number;
  /** Read-only partition (< 0x3000, upstream only): no reserved page, no padding. */
  readOnly: boolean;
}

/** Validates a partition size for a layout (spec §10). */
export function partitionGeometry(size: number, layout: NvsLayout): PartitionGeometry {
  if (!Number.isSafeInteger(size) || size % NVS_PAGE_SIZE !== 0) {
    throw new NvsInputError(`Size of partition must be multiple of 4096 (got ${size})`);
  }
  if (layout !== 'upstream') {
    if (size < 3 * NVS_PAGE_SIZE) throw new NvsInputError('Minimum NVS partition size needed is 0x3000 bytes.');
    return { usablePages: size / NVS_PAGE_SIZE - 1, readOnly: false };
  }
  if (size < NVS_PAGE_SIZE) {
    throw new NvsInputError('Minimum partition size for read/write NVS is 0x3000 bytes and for read-only NVS is 0x1000 bytes.');
  }
  if (size < 3 * NVS_PAGE_SIZE) return { usablePages: size / NVS_PAGE_SIZE, readOnly: true };
  return { usablePages: size / NVS_PAGE_SIZE - 1, readOnly: false };
}

/** Chunk index and chunk count are single bytes. */
const MAX_BLOB_CHUNKS = 255;

const SLOT_BYTES = NVS_ENTRY_SIZE;

export class NvsImageBuilder {
  /** The whole partition, erased (0xFF); pages are views of it, so finishing copies nothing. */
  private readonly image: Uint8Array;
  private pageCount = 0;
  private page!: Uint8Array;
  /** Next free slot in the current page. */
  private slot = 0;
  private readonly geometry: PartitionGeometry;
  private readonly versionByte: number;

  constructor(
    private readonly size: number,
    private readonly version: 1 | 2,
    private readonly layout: NvsLayout,
  ) {
    this.geometry = partitionGeometry(size, layout);
    this.image = new Uint8Array(size).fill(0xff);
    this.versionByte = version === 1 ? PAGE_VERSION_1 : PAGE_VERSION_2;
    this.openPage({});
  }

  /** Integer or namespace entry: one slot; may use the last slot of a page. */
  writeFixed(ns: number, type: number, key: string, data: Uint8Array, where: NvsErrorLocation): void {
    if (this.slot >= ENTRIES_PER_PAGE) this.openPage(where);
    const entry = newEntry(ns, type, 1, CHUNK_ANY, key);
    entry.set(data.subarray(0, 8), 24);
    this.putEntry(entry);
  }

  /**
   * String (SZ) or blob. Strings and version-1 blobs are one item that must fit on one page and
   * may not use its last slot; version-2 blobs are split into BLOB_DATA chunks + a BLOB_IDX.
   */
  writeVariable(ns: number, kind: 'string' | 'blob', key: string, payload: Uint8Array, where: NvsErrorLocation): void {
    const chunked = kind === 'blob' && this.version === 2;
    const limit = this.version === 1 ? MAX_VAR_LEN_V1 : kind === 'string' ? MAX_STRING_LEN_V2 : Infinity;
    if (payload.length > limit) {
      throw new NvsInputError(`${kind} of ${payload.length} bytes exceeds the maximum of ${limit} bytes for version ${this.version}`, where);
    }
    if (chunked) {
      if (this.slot >= ENTRIES_PER_PAGE) this.openPage(where);
      this.writeChunkedBlob(ns, key, payload, where);
      return;
    }
    const span = 1 + Math.ceil(payload.length / SLOT_BYTES);
    // `>=`: such an item never takes a page's last slot (reference behaviour).
    if (this.slot + span >= ENTRIES_PER_PAGE) {
      this.openPage(where);
      if (span >= ENTRIES_PER_PAGE) {
        throw new NvsInputError(
          `${kind} of ${payload.length} bytes needs ${span} entries but at most ${ENTRIES_PER_PAGE - 1} fit in a page ` +
            `(the largest ${kind === 'string' ? 'string is 3967 bytes + NUL' : 'blob is 3968 bytes'})`,
          where,
        );
      }
    }
    const type = kind === 'string' ? ItemType.SZ : ItemType.BLOB;
    this.putEntry(varLenHeader(ns, type, span, CHUNK_ANY, key, payload));
    this.putPayload(payload);
  }

  private writeChunkedBlob(ns: number, key: string, payload: Uint8Array, where: NvsErrorLocation): void {
    let offset = 0;
    let chunks = 0;
    for (;;) {
      const room = (ENTRIES_PER_PAGE - this.slot - 1) * SLOT_BYTES;
      const size = Math.min(room, payload.length - offset);
      if (chunks >= MAX_BLOB_CHUNKS) {
        throw new NvsInputError(`blob of ${payload.length} bytes needs more than ${MAX_BLOB_CHUNKS} chunks`, where);
      }
      const chunk = payload.subarray(offset, offset + size);
      this.putEntry(varLenHeader(ns, ItemType.BLOB_DATA, 1 + Math.ceil(size / SLOT_BYTES), chunks, key, chunk));
      this.putPayload(chunk);
      chunks++;
      offset += size;
      const remaining = payload.length - offset;
      // A new page also when this one has no slot left for the index.
      if (remaining > 0 || room - size < SLOT_BYTES) this.openPage(where);
      if (remaining === 0) break;
    }
    const index = newEntry(ns, ItemType.BLOB_IDX, 1, CHUNK_ANY, key);
    writeU32(index, 24, payload.length);
    index[28] = chunks;
    index[29] = 0; // chunk start
    this.putEntry(index);
  }

  private putEntry(entry: Uint8Array): void {
    writeU32(entry, 4, entryCrc(entry));
    this.page.set(entry, NVS_FIRST_ENTRY_OFFSET + this.slot * SLOT_BYTES);
    this.markWritten(1);
  }

  private putPayload(payload: Uint8Array): void {
    this.page.set(payload, NVS_FIRST_ENTRY_OFFSET + this.slot * SLOT_BYTES);
    this.markWritten(Math.ceil(payload.length / SLOT_BYTES));
  }

  /** Written = clear the low bit of the slot's 2-bit pair in the bitmap. */
  private markWritten(count: number): void {
    for (let i = 0; i < count; i++, this.slot++) {
      this.page[32 + (this.slot >> 2)]! &= ~(1 << (2 * (this.slot & 3)));
    }
  }

  private openPage(where: NvsErrorLocation): void {
    if (this.pageCount > 0 && this.layout !== 'homekit') setState(this.page, PAGE_STATE_FULL);
    if (this.pageCount >= this.geometry.usablePages) {
      throw new NvsInputError(
        `partition size 0x${this.size.toString(16)} is too small for the CSV data (${this.geometry.usablePages} usable page${this.geometry.usablePages === 1 ? '' : 's'}); increase the size`,
        where,
      );
    }
    this.page = this.newPage(PAGE_STATE_ACTIVE);
    this.slot = 0;
  }

  /** Writes the header of the next page (still erased) and returns that page. */
  private newPage(state: number): Uint8Array {
    const seq = this.pageCount++;
    const page = this.image.subarray(seq * NVS_PAGE_SIZE, (seq + 1) * NVS_PAGE_SIZE);
    setState(page, state);
    writeU32(page, 4, seq);
    page[8] = this.versionByte;
    writeU32(page, 28, pageHeaderCrc(page));
    return page;
  }

  /** The finished image (see NvsLayout for what each layout does with unused pages). */
  finish(): Uint8Array {
    const { readOnly, usablePages } = this.geometry;
    if (this.layout !== 'upstream') {
      const state = this.layout === 'idf52' ? PAGE_STATE_FULL : PAGE_STATE_ACTIVE;
      setState(this.page, state);
      while (this.pageCount < usablePages) this.newPage(state);
    }
    return readOnly ? this.image.slice(0, this.pageCount * NVS_PAGE_SIZE) : this.image;
  }
}

const utf8 = new TextEncoder();

function newEntry(ns: number, type: number, span: number, chunkIndex: number, key: string): Uint8Array {
  const entry = new Uint8Array(NVS_ENTRY_SIZE).fill(0xff);
  entry[0] = ns;
  entry[1] = type;
  entry[2] = span;
  entry[3] = chunkIndex;
  entry.fill(0, 8, 8 + NVS_KEY_SIZE); // the key is zero padded, not 0xFF
  entry.set(utf8.encode(key).subarray(0, NVS_KEY_SIZE - 1), 8);
  return entry;
}

function varLenHeader(ns: number, type: number, span: number, chunkIndex: number, key: string, payload: Uint8Array): Uint8Array {
  const entry = newEntry(ns, type, span, chunkIndex, key);
  entry[24] = payload.length & 0xff;
  entry[25] = payload.length >> 8;
  writeU32(entry, 28, crc32(payload));
  return entry;
}

function setState(page: Uint8Array, state: number): void {
  writeU32(page, 0, state);
}

function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}
