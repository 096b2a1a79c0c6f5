// The files the `nvs generate-key | encrypt | decrypt | inspect` sub-commands share: reading
// inputs (images in whole pages, CRC-checked keys files) and producing keys files (random or
// HMAC-derived, mode 0600, never overwriting one). One place for these rules because a key lost to
// an overwrite, or a wrong key accepted, means devices whose NVS cannot be read.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, OutputSet, type CliIO } from '../io.ts';
import { resolveTargetPath } from '../nvs-args.ts';
import type { NvsKeys } from '../../../shared/nvs/encryption.ts';
import {
  buildKeysPartition,
  deriveNvsKeysFromHmac,
  generateNvsKeys,
  NvsKeysError,
  parseKeysFile,
} from '../../../shared/nvs/keys.ts';
import { readInputFile } from '../../fs/index.ts';

export async function readInput(io: CliIO, file: string): Promise<Uint8Array> {
  return readInputFile(resolve(io.cwd, file));
}

/** A keys file as the commands accept it (see parseKeysFile); a bad one is one clear line. */
export async function readKeys(io: CliIO, file: string): Promise<NvsKeys> {
  const bin = await readInput(io, file);
  try {
    return parseKeysFile(bin);
  } catch (err) {
    if (err instanceof NvsKeysError) throw new CliError(`error: ${file}: ${err.message}`, 1);
    throw err;
  }
}

export function requireWholePages(file: string, image: Uint8Array): void {
  if (image.length === 0 || image.length % 4096 !== 0) {
    throw new CliError(`error: ${file}: ${image.length} bytes is not a whole number of 4096-byte NVS pages`, 1);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Default keys file name of the reference: keys-MM-DD_HH-MM.bin in local time. */
export function defaultKeysFileName(now: Date = new Date()): string {
  return `keys-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}_${pad2(now.getHours())}-${pad2(now.getMinutes())}.bin`;
}

/** Help lines of the key options generate-key and encrypt share. */
export const KEY_OPTIONS_HELP =
  '  --keyfile KEYFILE     name of the keys file written to OUTDIR/keys/ (default: keys-MM-DD_HH-MM.bin, local time)\n' +
  '  --key_protect_hmac    derive the keys from an HMAC key (HMAC-based key protection scheme) instead of\n' +
  '                        drawing them at random (flash-encryption based scheme)\n' +
  '  --kp_hmac_keygen      generate the HMAC key (32 random bytes, saved as OUTDIR/keys/hmac-KEYFILE)\n' +
  '  --kp_hmac_keyfile KP_HMAC_KEYFILE\n' +
  '                        name of the HMAC key file --kp_hmac_keygen writes\n' +
  '  --kp_hmac_inputkey KP_HMAC_INPUTKEY\n' +
  '                        file holding the HMAC key to derive the NVS encryption keys from\n';

export interface KeygenRequest {
  /** Directory whose keys/ folder receives the files; undefined = working directory. */
  outdir?: string | undefined;
  keyfile?: string;
  keyProtectHmac: boolean;
  kpHmacKeygen: boolean;
  kpHmacKeyfile?: string;
  kpHmacInputkey?: string;
}

/**
 * The reference's generate_key(): random keys, or keys derived from an HMAC key (read from a file
 * or generated and saved). Queues the files on `outputs`; returns the keys and the keys file path.
 */
export async function produceKeys(io: CliIO, req: KeygenRequest, outputs: OutputSet): Promise<{ keys: NvsKeys; keysPath: string }> {
  const keyfile = req.keyfile ?? defaultKeysFileName();
  const keysDir = join(req.outdir ?? io.cwd, 'keys');
  const keysPath = await resolveTargetPath(keysDir, keyfile, io);
  refuseExistingKey(keysPath);
  let keys: NvsKeys;
  if (req.keyProtectHmac) {
    let hmacKey: Uint8Array;
    if (req.kpHmacKeygen) {
      hmacKey = crypto.getRandomValues(new Uint8Array(32));
      const hmacPath = await resolveTargetPath(keysDir, req.kpHmacKeyfile ?? `hmac-${keyfile}`, io);
      refuseExistingKey(hmacPath);
      outputs.add(hmacPath, hmacKey, KEY_FILE);
    } else if (req.kpHmacInputkey !== undefined) {
      hmacKey = await readInput(io, req.kpHmacInputkey);
      if (hmacKey.length === 0) throw new CliError(`error: ${req.kpHmacInputkey}: the HMAC key file is empty`, 1);
    } else {
      throw new CliError('error: HMAC Key input file (HMAC-based encryption scheme) missing! Use --kp_hmac_keygen or --kp_hmac_inputkey FILE.', 1);
    }
    keys = deriveNvsKeysFromHmac(hmacKey);
  } else {
    keys = generateNvsKeys();
  }
  outputs.add(keysPath, buildKeysPartition(keys), KEY_FILE);
  return { keys, keysPath };
}

/** Key files: 0600, and never replacing an existing file (checked again by the write itself). */
const KEY_FILE = { mode: 0o600, replace: false } as const;

function refuseExistingKey(path: string): void {
  if (existsSync(path)) throw new CliError(`error: ${path} already exists; keys files are never overwritten (choose another --keyfile, or move the old one away)`, 1);
}

/** OutputSet.commit with a clear message when a key file appeared meanwhile (replace: false). */
export async function commitKeys(outputs: OutputSet): Promise<void> {
  try {
    await outputs.commit();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST' && typeof e.path === 'string') refuseExistingKey(e.path);
    throw err;
  }
}
