// Whole-file input like gen_esp32part.py's from_file: AA 50 → binary table, otherwise text whose
// codec a BOM selects (UTF-8 by default), then the same checks for both kinds.
import { decodePartitionBinary, isPartitionBinary } from './binary.ts';
import { checkBootloaderOffset, decodePartitionCsv, finishTable, type PartitionCsvOptions } from './csv.ts';
import { PartitionTableError, type PartitionTable } from './types.ts';

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function decodeUtf32be(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new Error('truncated data');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let out = '';
  for (let at = 0; at < bytes.length; at += 4) {
    const cp = view.getUint32(at, false);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new Error('code point not in range');
    out += String.fromCodePoint(cp);
  }
  return out;
}

/**
 * CSV bytes → text. BOMs are checked in the tool's order, so a UTF-32-LE BOM (FF FE 00 00) is
 * taken as UTF-16-LE, as the tool does.
 */
export function decodePartitionCsvText(bytes: Uint8Array): string {
  try {
    if (startsWith(bytes, [0xef, 0xbb, 0xbf])) return new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops the BOM
    if (startsWith(bytes, [0xff, 0xfe])) return new TextDecoder('utf-16le', { fatal: true }).decode(bytes);
    if (startsWith(bytes, [0xfe, 0xff])) return new TextDecoder('utf-16be', { fatal: true }).decode(bytes);
    if (startsWith(bytes, [0x00, 0x00, 0xfe, 0xff])) return decodeUtf32be(bytes.subarray(4));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new PartitionTableError('Partition CSV is not valid text in its encoding (UTF-8 unless a byte order mark says otherwise)', {
      code: 'text-encoding',
    });
  }
}

export interface PartitionInputOptions extends PartitionCsvOptions {
  /** For binary input: check MD5 records (default true; false = --disable-md5sum). */
  md5?: boolean;
}

/** Binary table → validated table (MD5 checked, then the tool's validation unless verify is false). */
export function parsePartitionBinary(bin: Uint8Array, options: PartitionInputOptions = {}): PartitionTable {
  checkBootloaderOffset(options);
  const table = decodePartitionBinary(bin, { md5: options.md5, onWarning: options.onWarning });
  finishTable(table, options);
  return table;
}

/** Any partition table file (binary or CSV bytes) → validated table, and which kind it was. */
export function parsePartitionInput(bytes: Uint8Array, options: PartitionInputOptions = {}): { table: PartitionTable; inputIsBinary: boolean } {
  checkBootloaderOffset(options);
  if (isPartitionBinary(bytes)) return { table: parsePartitionBinary(bytes, options), inputIsBinary: true };
  const table = decodePartitionCsv(decodePartitionCsvText(bytes), options);
  finishTable(table, options);
  return { table, inputIsBinary: false };
}
