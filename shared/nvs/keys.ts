// The NVS keys file / `nvs_keys` partition (spec nvs-format.md §12):
// eky (32) ‖ tky (32) ‖ CRC32 of those 64 bytes (LE) ‖ 0xFF up to 4096 bytes.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { crc32, NVS_KEY_FILE_SIZE, NVS_XTS_KEY_SIZE } from './format.ts';
import type { NvsKeys } from './encryption.ts';

export type { NvsKeys } from './encryption.ts';

const KEYS_LEN = 2 * NVS_XTS_KEY_SIZE;
const CRC_AT = KEYS_LEN;

function cryptoRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Fresh random XTS keys. Default source is the platform CSPRNG (the reference uses Python's
 * non-cryptographic `random`; we deliberately do better). `random` is injectable for tests.
 */
export function generateNvsKeys(random: (n: number) => Uint8Array = cryptoRandom): NvsKeys {
  const bytes = random(KEYS_LEN);
  if (bytes.length !== KEYS_LEN) throw new Error(`random source returned ${bytes.length} bytes, expected ${KEYS_LEN}`);
  return { encryptionKey: bytes.slice(0, NVS_XTS_KEY_SIZE), tweakKey: bytes.slice(NVS_XTS_KEY_SIZE, KEYS_LEN) };
}

/** The 4096-byte keys partition image for `keys`. */
export function buildKeysPartition(keys: NvsKeys): Uint8Array {
  if (keys.encryptionKey.length !== NVS_XTS_KEY_SIZE || keys.tweakKey.length !== NVS_XTS_KEY_SIZE) {
    throw new Error(`NVS encryption keys must be ${NVS_XTS_KEY_SIZE} + ${NVS_XTS_KEY_SIZE} bytes`);
  }
  const out = new Uint8Array(NVS_KEY_FILE_SIZE).fill(0xff);
  out.set(keys.encryptionKey, 0);
  out.set(keys.tweakKey, NVS_XTS_KEY_SIZE);
  new DataView(out.buffer).setUint32(CRC_AT, crc32(out.subarray(0, KEYS_LEN)), true);
  return out;
}

/** Raised for a keys file that cannot be used; the message says why in one line. */
export class NvsKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NvsKeysError';
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Parse a keys partition: exactly 4096 bytes, CRC32 over the 64 key bytes must match (the device
 * checks the same), and an all-0xFF partition ("no keys generated yet") is rejected explicitly.
 * The 0xFF tail is not checked: the device ignores it.
 */
export function parseKeysPartition(bin: Uint8Array): NvsKeys {
  if (bin.length !== NVS_KEY_FILE_SIZE) {
    throw new NvsKeysError(`keys file is ${bin.length} bytes; an NVS keys partition is exactly ${NVS_KEY_FILE_SIZE} bytes`);
  }
  if (bin.subarray(0, CRC_AT + 4).every((b) => b === 0xff)) {
    throw new NvsKeysError('keys file is empty (all 0xFF): no NVS encryption keys in it');
  }
  const stored = new DataView(bin.buffer, bin.byteOffset, bin.byteLength).getUint32(CRC_AT, true);
  const computed = crc32(bin.subarray(0, KEYS_LEN));
  if (stored !== computed) {
    throw new NvsKeysError(
      `keys file is corrupted: CRC32 at offset 64 is ${hex32(stored)}, the 64 key bytes give ${hex32(computed)}`,
    );
  }
  return { encryptionKey: bin.slice(0, NVS_XTS_KEY_SIZE), tweakKey: bin.slice(NVS_XTS_KEY_SIZE, KEYS_LEN) };
}

const HMAC_EKEY_SEED = new Uint8Array(32).map((_, i) => [0x5a, 0x5a, 0xbe, 0xae][i % 4]!);
const HMAC_TKEY_SEED = new Uint8Array(32).map((_, i) => [0xa5, 0xa5, 0xde, 0xce][i % 4]!);

/**
 * Keys of the HMAC key-protection scheme (what the device derives from its eFuse HMAC key):
 * eky = HMAC-SHA256(H, 5A5ABEAE ×8), tky = HMAC-SHA256(H, A5A5DECE ×8).
 */
export function deriveNvsKeysFromHmac(hmacKey: Uint8Array): NvsKeys {
  return {
    encryptionKey: hmac(sha256, hmacKey, HMAC_EKEY_SEED),
    tweakKey: hmac(sha256, hmacKey, HMAC_TKEY_SEED),
  };
}

/**
 * Keys as the command-line tools accept them: a 4096-byte keys partition (CRC-checked, see
 * {@link parseKeysPartition}) or a bare 64-byte eky ‖ tky file. The reference reads the first 64
 * bytes blindly; we refuse a keys file whose CRC is wrong because the device would refuse it too.
 */
export function parseKeysFile(bin: Uint8Array): NvsKeys {
  if (bin.length === KEYS_LEN) {
    return { encryptionKey: bin.slice(0, NVS_XTS_KEY_SIZE), tweakKey: bin.slice(NVS_XTS_KEY_SIZE, KEYS_LEN) };
  }
  if (bin.length !== NVS_KEY_FILE_SIZE) {
    throw new NvsKeysError(
      `keys file is ${bin.length} bytes; expected a ${NVS_KEY_FILE_SIZE}-byte NVS keys partition (or ${KEYS_LEN} bare key bytes)`,
    );
  }
  return parseKeysPartition(bin);
}
