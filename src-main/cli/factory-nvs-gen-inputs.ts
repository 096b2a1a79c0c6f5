// factory-nvs-gen's inputs turned into checked values: the salt, the partition size, the custom
// CSV (--infile) and the keys file (--keyfile), each refused with the reference's message where it
// has one and a clear one of ours where it lets a bad value through; plus the file-system probes
// the generation asks before writing. Apart from factory-nvs-gen.ts so that the entry file reads
// as the reference's sequence of checks, not as the detail of each.
import { statSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import { checkFactoryCustomData } from '../../shared/homekit/factory-csv.ts';
import { NvsInputError } from '../../shared/nvs/writer.ts';
import type { NvsKeys } from '../../shared/nvs/encryption.ts';
import { parsePyIntBase0 } from '../../shared/nvs/values.ts';
import { parseKeysFile, NvsKeysError } from '../../shared/nvs/keys.ts';
import { CliError } from './io.ts';
import { readInputFileSync } from '../fs/index.ts';
import { pyRepr, pythonOsError } from './factory-nvs-gen-python.ts';

/** Far above any real NVS partition; keeps a typo from allocating gigabytes. */
const MAX_SIZE = 0x2000000;

/** binascii.a2b_hex's errors for what it refuses, then our own rule: exactly 16 bytes. */
export function parseSalt(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new CliError('Odd-length string');
  if (!/^[0-9A-Fa-f]*$/.test(hex)) throw new CliError('Non-hexadecimal digit found');
  if (hex.length !== 32) {
    throw new CliError(`Error: --salt must be exactly 32 hexadecimal digits (16 bytes); got ${hex.length / 2} bytes`);
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/** Python int(text, 0) plus the two size rules of check_input_args. */
export function parseSize(text: string): number {
  const n = parsePyIntBase0(text);
  if (n === undefined) throw new CliError(`invalid literal for int() with base 0: ${pyRepr(text)}`);
  if (n % 4096n !== 0n) throw new CliError('Size of partition must be multiple of 4096');
  if (n - 4096n < 2n * 4096n) throw new CliError('Minimum NVS partition size needed is 0x3000 bytes.');
  if (n > BigInt(MAX_SIZE)) throw new CliError(`Error: --size 0x${n.toString(16)} is larger than any NVS partition (at most 0x${MAX_SIZE.toString(16)})`);
  return Number(n);
}

/**
 * The --infile CSV as text. Never in the reference: custom data that would override or displace
 * the identity is refused.
 */
export function readCustomCsv(path: string, shown: string): string {
  const customCsv = readUtf8(path, shown);
  try {
    checkFactoryCustomData(customCsv, shown);
  } catch (err) {
    if (err instanceof NvsInputError) throw new CliError(`Error: ${err.message}`);
    throw err;
  }
  return customCsv;
}

function readUtf8(path: string, shown: string): string {
  const bytes = readInputFileSync(path);
  try {
    // ignoreBOM: Python's utf-8 codec keeps a byte order mark, and so must the copied CSV.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CliError(`Error: --infile ${shown} is not valid UTF-8 text`);
  }
}

/**
 * The reference takes the first 64 bytes of any file as the key. We take exactly a 4096-byte keys
 * partition (its CRC checked) or the 64 bare key bytes: anything else (a 4097-byte file, a
 * truncated one) is not a keys file, and a wrong key would make images no device can read.
 */
export function readKeyFile(path: string, shown: string): NvsKeys {
  let bytes: Uint8Array;
  try {
    bytes = readInputFileSync(path);
  } catch (err) {
    throw new CliError(pythonOsError(err, shown));
  }
  try {
    return parseKeysFile(bytes);
  } catch (err) {
    if (err instanceof NvsKeysError) throw new CliError(`Error: --keyfile ${shown}: ${err.message}`);
    throw err;
  }
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
