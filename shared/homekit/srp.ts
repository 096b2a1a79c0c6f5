// SRP-6a setup info (salt + verifier) for HomeKit Pair-Setup (spec homekit-setup.md §3):
// RFC 5054 3072-bit group, g = 5, SHA-512, username `Pair-Setup`, password `DDD-DD-DDD`,
// x = H(s ‖ H(I ‖ ":" ‖ P)), v = g^x mod N as 384 big-endian bytes.
//
// Deliberate fix of the reference: x is always computed over exactly the 16 salt bytes that get
// stored, leading zero bytes included (factory_nvs_gen.py drops a leading 0x00 of a random salt,
// quirk q1, and accepts short salts, quirk q5 — both make pairing impossible).
import { sha512 } from '@noble/hashes/sha2.js';
import { cryptoRandomBytes, formatSetupCode, type RandomBytes } from './setup-code.ts';

export const SRP_USERNAME = 'Pair-Setup';
export const SRP_SALT_LENGTH = 16;
export const SRP_VERIFIER_LENGTH = 384;

/** RFC 5054 / RFC 3526 3072-bit safe prime and its generator, as HAP uses them. */
export const SRP_N = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
    '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
    '4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05' +
    '98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB' +
    '9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718' +
    '3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33' +
    'A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864' +
    'D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2' +
    '08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
export const SRP_G = 5n;

/** Salt + verifier: everything the accessory stores instead of the setup code. */
export interface SetupInfo {
  /** 16 bytes. */
  salt: Uint8Array;
  /** 384 bytes, big-endian g^x mod N, left-padded with zeros. */
  verifier: Uint8Array;
}

/**
 * x = SHA-512(salt ‖ SHA-512("Pair-Setup:" ‖ "DDD-DD-DDD")) as 64 big-endian bytes.
 * `setupCode` may be given in either spelling; it is validated (forbidden codes throw).
 */
export function computeSrpX(setupCode: string, salt: Uint8Array): Uint8Array {
  if (salt.length !== SRP_SALT_LENGTH) {
    throw new RangeError(`SRP salt must be exactly ${SRP_SALT_LENGTH} bytes (got ${salt.length})`);
  }
  const password = formatSetupCode(setupCode);
  const inner = sha512(new TextEncoder().encode(`${SRP_USERNAME}:${password}`));
  const outer = new Uint8Array(salt.length + inner.length);
  outer.set(salt, 0);
  outer.set(inner, salt.length);
  return sha512(outer);
}

/** The 384-byte verifier for `setupCode` (either spelling) and a 16-byte salt. */
export function computeVerifier(setupCode: string, salt: Uint8Array): Uint8Array {
  return bigIntToBytes(powG(computeSrpX(setupCode, salt)), SRP_VERIFIER_LENGTH);
}

/** Fresh 16-byte CSPRNG salt (any first byte, 0x00 included) and its verifier. */
export function generateSetupInfo(setupCode: string, random: RandomBytes = cryptoRandomBytes): SetupInfo {
  const salt = random(SRP_SALT_LENGTH);
  if (salt.length !== SRP_SALT_LENGTH) throw new Error(`random source returned ${salt.length} bytes, expected ${SRP_SALT_LENGTH}`);
  return { salt, verifier: computeVerifier(setupCode, salt) };
}

// --- g^x with a fixed-base table -------------------------------------------------------------
// x is a 512-bit SHA-512 digest, i.e. 64 base-256 digits x_i, so g^x = Π g^(x_i·256^i). The
// table holds g^(d·256^i) for every digit d (1..255) and position i (0..63): one verifier then
// costs at most 63 modular multiplications instead of ~770 for square-and-multiply. The table
// (16 320 numbers of 3072 bits, ≈ 6.5 MB) costs ≈ 0.17 s, i.e. ~25 verifiers the plain way: so a
// process computes its first DIRECT_VERIFIERS verifiers by square-and-multiply (a one-shot CLI
// never builds the table) and builds the table after that, or when asked (precomputeSrpTable).

const DIRECT_VERIFIERS = 24;
let directCount = 0;
const WINDOW_BITS = 8;
const DIGITS = 64;
const RADIX = 1 << WINDOW_BITS;
let table: bigint[] | undefined;

/** Builds the fixed-base table now instead of on the first verifier (e.g. before timing). */
export function precomputeSrpTable(): void {
  if (table) return;
  const t: bigint[] = [];
  let base = SRP_G;
  for (let i = 0; i < DIGITS; i++) {
    const row = srpTableRow(base);
    t.push(...row);
    base = (row[RADIX - 1]! * base) % SRP_N; // g^(256^(i+1))
  }
  table = t;
}

/** One row of the table: base^d mod N for d = 0..255. */
function srpTableRow(base: bigint): bigint[] {
  const row = new Array<bigint>(RADIX);
  row[0] = 1n;
  row[1] = base;
  for (let d = 2; d < RADIX; d++) row[d] = (row[d - 1]! * base) % SRP_N;
  return row;
}

/**
 * The fixed-base table, built now if needed: for a thread that hands it to others (a structured
 * clone of it is several times cheaper than building it again).
 */
export function srpTableSnapshot(): readonly bigint[] {
  precomputeSrpTable();
  return table!;
}

/** Uses a table from srpTableSnapshot() (e.g. received from another thread) instead of building one; checked first. */
export function adoptSrpTable(values: readonly bigint[]): void {
  if (!looksLikeTable(values)) throw new Error('adoptSrpTable: not the SRP fixed-base table');
  table ??= values as bigint[];
}

/**
 * Cheap structural check (~190 multiplications of ~16 000): every row starts 1, b, b², ends
 * b²⁵⁴·b, and the next row's base is b²⁵⁶ — so rows out of order or from another table fail.
 */
function looksLikeTable(t: readonly bigint[]): boolean {
  if (t.length !== DIGITS * RADIX || !t.every((v) => typeof v === 'bigint' && v > 0n && v < SRP_N)) return false;
  if (t[1] !== SRP_G) return false;
  for (let i = 0; i < DIGITS; i++) {
    const r = i * RADIX;
    const b = t[r + 1]!;
    if (t[r] !== 1n || t[r + 2] !== (b * b) % SRP_N || t[r + RADIX - 1] !== (t[r + RADIX - 2]! * b) % SRP_N) return false;
    if (i + 1 < DIGITS && t[r + RADIX + 1] !== (t[r + RADIX - 1]! * b) % SRP_N) return false;
  }
  return true;
}

/** g^x mod N for a 64-byte big-endian exponent. */
function powG(x: Uint8Array): bigint {
  if (!table && directCount < DIRECT_VERIFIERS) {
    directCount++;
    return srpPowDirect(x);
  }
  return srpPowTable(x);
}

/** g^x mod N by left-to-right square-and-multiply (no table). */
export function srpPowDirect(x: Uint8Array): bigint {
  let acc = 1n;
  for (const byte of x) {
    for (let bit = 7; bit >= 0; bit--) {
      acc = (acc * acc) % SRP_N;
      if ((byte >> bit) & 1) acc = (acc * SRP_G) % SRP_N;
    }
  }
  return acc;
}

/** g^x mod N with the fixed-base table (built now if needed). */
export function srpPowTable(x: Uint8Array): bigint {
  precomputeSrpTable();
  const t = table!;
  let acc: bigint | undefined;
  for (let i = 0; i < DIGITS; i++) {
    const d = x[DIGITS - 1 - i]!;
    if (d === 0) continue;
    const f = t[i * RADIX + d]!;
    acc = acc === undefined ? f : (acc * f) % SRP_N;
  }
  return acc ?? 1n;
}

function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const hex = n.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return out;
}

/** Value of a lower-case hex digit's char code (BigInt.toString(16) never emits upper case). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87;
}
