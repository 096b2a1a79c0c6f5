// Table ↔ the 3072-byte binary ESP-IDF's bootloader reads: 32-byte records in table order, an MD5
// record over them, 0xFF fill.
import { concatBytes } from '@noble/hashes/utils.js';
import { md5 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { hex, pyBytesRepr } from './python-text.ts';
import {
  PARTITION_RECORD_SIZE,
  PARTITION_TABLE_BINARY_SIZE,
  PartitionTableError,
  type PartitionEntry,
  type PartitionTable,
  type WarningSink,
} from './types.ts';

const MAGIC = [0xaa, 0x50] as const;
const MD5_MAGIC = [0xeb, 0xeb] as const;
const NAME_BYTES = 16;
const FLAG_ENCRYPTED = 1 << 0;
const FLAG_READONLY = 1 << 1;

/** True when `bytes` starts with the partition record magic (AA 50): a binary table, not CSV text. */
export function isPartitionBinary(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1];
}

function checkRange(e: PartitionEntry, field: 'type' | 'subtype' | 'offset' | 'size', max: number): void {
  const value = e[field];
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new PartitionTableError(
      `Partition ${e.name}: ${field} ${value < 0 ? value : hex(value)} does not fit the binary format (0..${hex(max)})`,
      { code: 'out-of-range', partition: e.name, field, line: e.line },
    );
  }
}

function encodeRecord(e: PartitionEntry, out: Uint8Array, at: number): void {
  checkRange(e, 'type', 0xff);
  checkRange(e, 'subtype', 0xff);
  checkRange(e, 'offset', 0xffffffff);
  checkRange(e, 'size', 0xffffffff);
  const view = new DataView(out.buffer, out.byteOffset + at, PARTITION_RECORD_SIZE);
  out.set(MAGIC, at);
  view.setUint8(2, e.type);
  view.setUint8(3, e.subtype);
  view.setUint32(4, e.offset, true);
  view.setUint32(8, e.size, true);
  // Like struct's '16s': NUL-padded, silently cut at 16 bytes (even mid-character), no terminator needed.
  out.fill(0, at + 12, at + 12 + NAME_BYTES);
  out.set(new TextEncoder().encode(e.name).subarray(0, NAME_BYTES), at + 12);
  view.setUint32(28, (e.flags.encrypted ? FLAG_ENCRYPTED : 0) | (e.flags.readonly ? FLAG_READONLY : 0), true);
}

/** The exact bytes gen_esp32part.py writes (md5 defaults to true; false = --disable-md5sum). */
export function partitionTableToBinary(table: PartitionTable, options: { md5?: boolean } = {}): Uint8Array {
  const withMd5 = options.md5 ?? true;
  const used = table.entries.length * PARTITION_RECORD_SIZE + (withMd5 ? PARTITION_RECORD_SIZE : 0);
  if (used >= PARTITION_TABLE_BINARY_SIZE) {
    throw new PartitionTableError(`Binary partition table length (${used}) longer than max`, { code: 'too-long' });
  }
  const out = new Uint8Array(PARTITION_TABLE_BINARY_SIZE).fill(0xff);
  table.entries.forEach((e, i) => encodeRecord(e, out, i * PARTITION_RECORD_SIZE));
  if (withMd5) {
    const recordsEnd = table.entries.length * PARTITION_RECORD_SIZE;
    const digest = md5(out.subarray(0, recordsEnd));
    out.set(MD5_MAGIC, recordsEnd); // bytes 2..15 stay 0xFF
    out.set(digest, recordsEnd + 16);
  }
  return out;
}

export interface PartitionBinaryOptions {
  /** Treat `EB EB` records as MD5 records and check them (default true; false = --disable-md5sum). */
  md5?: boolean;
  /** Receives "WARNING: … unknown flag(s)" lines. */
  onWarning?: WarningSink;
}

function isAll(bytes: Uint8Array, value: number): boolean {
  return bytes.every((b) => b === value);
}

function decodeRecord(record: Uint8Array, warn: WarningSink): PartitionEntry {
  const view = new DataView(record.buffer, record.byteOffset, PARTITION_RECORD_SIZE);
  const rawName = record.subarray(12, 12 + NAME_BYTES);
  const nul = rawName.indexOf(0);
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(nul < 0 ? rawName : rawName.subarray(0, nul));
  } catch {
    throw new PartitionTableError(`Partition name ${pyBytesRepr(rawName)} is not valid UTF-8`, { code: 'binary', field: 'name' });
  }
  if (record[0] !== MAGIC[0] || record[1] !== MAGIC[1]) {
    throw new PartitionTableError(`Invalid magic bytes (${pyBytesRepr(record.subarray(0, 2))}) for partition definition`, { code: 'binary' });
  }
  const flags = view.getUint32(28, true);
  const unknown = flags & ~(FLAG_ENCRYPTED | FLAG_READONLY);
  if (unknown !== 0) {
    warn(`WARNING: Partition definition had unknown flag(s) 0x${(unknown >>> 0).toString(16).padStart(8, '0')}. Newer binary format?`);
  }
  return {
    name,
    type: view.getUint8(2),
    subtype: view.getUint8(3),
    offset: view.getUint32(4, true),
    size: view.getUint32(8, true),
    flags: { encrypted: (flags & FLAG_ENCRYPTED) !== 0, readonly: (flags & FLAG_READONLY) !== 0 },
  };
}

/**
 * Records up to the all-0xFF end marker; MD5 records must match the records before them. Does not
 * validate the layout (use verifyPartitionTable, or parsePartitionInput which does both).
 */
export function decodePartitionBinary(bin: Uint8Array, options: PartitionBinaryOptions = {}): PartitionTable {
  const checkMd5 = options.md5 ?? true;
  const warn = options.onWarning ?? (() => {});
  const entries: PartitionEntry[] = [];
  const hashed: Uint8Array[] = [];
  for (let at = 0; at < bin.length; at += PARTITION_RECORD_SIZE) {
    const record = bin.subarray(at, at + PARTITION_RECORD_SIZE);
    if (record.length !== PARTITION_RECORD_SIZE) {
      throw new PartitionTableError('Partition table length must be a multiple of 32 bytes', { code: 'binary' });
    }
    if (isAll(record, 0xff)) return { entries };
    if (checkMd5 && record[0] === MD5_MAGIC[0] && record[1] === MD5_MAGIC[1]) {
      const computed = md5(concatBytes(...hashed));
      const parsed = record.subarray(16);
      if (bytesToHex(computed) !== bytesToHex(parsed)) {
        throw new PartitionTableError(
          `MD5 checksums don't match! (computed: 0x${bytesToHex(computed)}, parsed: 0xb'${bytesToHex(parsed)}')`,
          { code: 'md5' },
        );
      }
      continue;
    }
    hashed.push(record);
    entries.push(decodeRecord(record, warn));
  }
  throw new PartitionTableError('Partition table is missing an end-of-table marker', { code: 'binary' });
}

