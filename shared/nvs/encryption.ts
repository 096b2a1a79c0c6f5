// NVS encryption: XTS-AES-256 (IEEE 1619) with one 32-byte entry slot as the data unit, exactly as
// nvs_partition_gen.py encrypts and the ESP-IDF runtime decrypts (spec nvs-format.md §12).
//
// XTS is built here on plain AES-ECB blocks from @noble/ciphers: it is audited, pure JS and runs
// unchanged in Node, Electron's renderer and browsers, whereas Node's `aes-256-xts` needs node:crypto
// and WebCrypto has no XTS at all. The block primitive can be swapped (`aes` option), which the tests
// use to cross-check against an independent implementation.
import { ecb } from '@noble/ciphers/aes.js';
import {
  ENTRIES_PER_PAGE,
  ENTRY_STATE_EMPTY,
  NVS_BITMAP_OFFSET,
  NVS_ENTRY_SIZE,
  NVS_FIRST_ENTRY_OFFSET,
  NVS_PAGE_SIZE,
  NVS_XTS_KEY_SIZE,
} from './format.ts';

/** The two XTS keys of an `nvs_keys` partition: eky encrypts data, tky encrypts the tweak. */
export interface NvsKeys {
  encryptionKey: Uint8Array /* 32 bytes */;
  tweakKey: Uint8Array /* 32 bytes */;
}

/** AES-256 on whole 16-byte blocks (no padding, no chaining). */
export interface AesBlockCipher {
  encryptBlocks(key: Uint8Array, blocks: Uint8Array): Uint8Array;
  decryptBlocks(key: Uint8Array, blocks: Uint8Array): Uint8Array;
}

export const nobleAes: AesBlockCipher = {
  encryptBlocks: (key, blocks) => ecb(key, { disablePadding: true }).encrypt(blocks),
  decryptBlocks: (key, blocks) => ecb(key, { disablePadding: true }).decrypt(blocks),
};

export interface XtsOptions {
  /** Block cipher to build XTS on; defaults to @noble/ciphers. */
  aes?: AesBlockCipher;
}

const BLOCK = 16;

function checkKeys(keys: NvsKeys): void {
  if (keys.encryptionKey.length !== NVS_XTS_KEY_SIZE || keys.tweakKey.length !== NVS_XTS_KEY_SIZE) {
    throw new Error(`NVS encryption keys must be ${NVS_XTS_KEY_SIZE} + ${NVS_XTS_KEY_SIZE} bytes`);
  }
}

/**
 * Per-unit XOR masks: for unit i, T = AES(tky, offset_i as 16-byte little-endian), then T·α for the
 * second block (multiplication by x in GF(2^128), little-endian byte order, reduction 0x87).
 */
function xtsMasks(tweakKey: Uint8Array, offsets: readonly number[], aes: AesBlockCipher): Uint8Array {
  const tweaks = new Uint8Array(offsets.length * BLOCK);
  offsets.forEach((offset, i) => {
    let v = offset;
    for (let b = 0; b < 8 && v > 0; b++) {
      tweaks[i * BLOCK + b] = v % 256;
      v = Math.floor(v / 256);
    }
  });
  const t = aes.encryptBlocks(tweakKey, tweaks);
  const masks = new Uint8Array(offsets.length * NVS_ENTRY_SIZE);
  for (let i = 0; i < offsets.length; i++) {
    const first = t.subarray(i * BLOCK, i * BLOCK + BLOCK);
    const out = i * NVS_ENTRY_SIZE;
    masks.set(first, out);
    let carry = 0;
    for (let b = 0; b < BLOCK; b++) {
      const byte = first[b]!;
      masks[out + BLOCK + b] = ((byte << 1) | carry) & 0xff;
      carry = byte >>> 7;
    }
    if (carry) masks[out + BLOCK] ^= 0x87;
  }
  return masks;
}

function xorInto(target: Uint8Array, mask: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] ^= mask[i]!;
}

function xtsUnits(
  keys: NvsKeys,
  units: Uint8Array,
  offsets: readonly number[],
  decrypt: boolean,
  aes: AesBlockCipher,
): Uint8Array {
  checkKeys(keys);
  if (units.length !== offsets.length * NVS_ENTRY_SIZE) {
    throw new Error(`expected ${offsets.length} units of ${NVS_ENTRY_SIZE} bytes, got ${units.length} bytes`);
  }
  if (offsets.length === 0) return new Uint8Array(0);
  const masks = xtsMasks(keys.tweakKey, offsets, aes);
  const buf = new Uint8Array(units); // a copy even for a Node Buffer, whose slice() is a view
  xorInto(buf, masks);
  const out = decrypt ? aes.decryptBlocks(keys.encryptionKey, buf) : aes.encryptBlocks(keys.encryptionKey, buf);
  xorInto(out, masks);
  return out;
}

/**
 * Encrypt 32-byte entries; `offsets[i]` is entry i's byte offset from the partition start
 * (its XTS sector number). `entries.length` must be `32 * offsets.length`.
 */
export function encryptNvsEntries(keys: NvsKeys, entries: Uint8Array, offsets: readonly number[], options: XtsOptions = {}): Uint8Array {
  return xtsUnits(keys, entries, offsets, false, options.aes ?? nobleAes);
}

/** Inverse of {@link encryptNvsEntries}. */
export function decryptNvsEntries(keys: NvsKeys, entries: Uint8Array, offsets: readonly number[], options: XtsOptions = {}): Uint8Array {
  return xtsUnits(keys, entries, offsets, true, options.aes ?? nobleAes);
}

/** Byte offset of a slot from the partition start: the XTS tweak the reference uses. */
export function slotOffset(page: number, slot: number): number {
  return page * NVS_PAGE_SIZE + NVS_FIRST_ENTRY_OFFSET + slot * NVS_ENTRY_SIZE;
}

function checkImageSize(image: Uint8Array, what: string): void {
  if (image.length === 0 || image.length % NVS_PAGE_SIZE !== 0) {
    throw new Error(`${what} is ${image.length} bytes; an NVS image is a non-empty multiple of ${NVS_PAGE_SIZE} bytes`);
  }
}

function isErased(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

/** Apply XTS to the selected slots of an image, in one batch (fast: two AES passes in total). */
function transformSlots(
  image: Uint8Array,
  keys: NvsKeys,
  slots: { page: number; slot: number; tweakSlot: number }[],
  decrypt: boolean,
  aes: AesBlockCipher,
): Uint8Array {
  const units = new Uint8Array(slots.length * NVS_ENTRY_SIZE);
  const offsets: number[] = [];
  slots.forEach((s, i) => {
    const at = slotOffset(s.page, s.slot);
    units.set(image.subarray(at, at + NVS_ENTRY_SIZE), i * NVS_ENTRY_SIZE);
    offsets.push(slotOffset(s.page, s.tweakSlot));
  });
  const done = xtsUnits(keys, units, offsets, decrypt, aes);
  const out = new Uint8Array(image); // a copy even for a Node Buffer, whose slice() is a view
  slots.forEach((s, i) => out.set(done.subarray(i * NVS_ENTRY_SIZE, (i + 1) * NVS_ENTRY_SIZE), slotOffset(s.page, s.slot)));
  return out;
}

/**
 * Encrypt a plain NVS image the way the generator does: every slot the entry-state bitmap marks as
 * used (written or erased) is encrypted with its own offset as tweak — item headers and payload
 * slots alike, including 0xFF padding and payload slots that happen to be all 0xFF. Page headers,
 * bitmaps and empty slots stay plain. Output has the input's size.
 */
export function encryptNvsImage(plain: Uint8Array, keys: NvsKeys, options: XtsOptions = {}): Uint8Array {
  checkImageSize(plain, 'plain image');
  const slots: { page: number; slot: number; tweakSlot: number }[] = [];
  for (let page = 0; page < plain.length / NVS_PAGE_SIZE; page++) {
    const bitmap = plain.subarray(page * NVS_PAGE_SIZE + NVS_BITMAP_OFFSET, page * NVS_PAGE_SIZE + NVS_FIRST_ENTRY_OFFSET);
    for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
      const state = (bitmap[slot >> 2]! >> ((slot & 3) * 2)) & 3;
      if (state !== ENTRY_STATE_EMPTY) slots.push({ page, slot, tweakSlot: slot });
    }
  }
  return transformSlots(plain, keys, slots, false, options.aes ?? nobleAes);
}

export interface DecryptOptions extends XtsOptions {
  /**
   * How the tweak of a slot is chosen:
   * - `'slot'` (default): the slot's own offset — what the device does, robust to holes.
   * - `'sequential'`: like `nvs_partition_gen.py decrypt`, the n-th non-erased slot of a page gets
   *   the tweak of slot n. Identical to `'slot'` for generator output (no holes); use it where a
   *   byte-for-byte drop-in of the reference's decrypt is wanted.
   */
  tweak?: 'slot' | 'sequential';
}

/**
 * Decrypt an encrypted NVS image: page headers and bitmaps (first 64 bytes of each page) are copied,
 * slots that are all 0xFF (never written) are copied, every other slot is decrypted. Output has the
 * input's size.
 */
export function decryptNvsImage(encrypted: Uint8Array, keys: NvsKeys, options: DecryptOptions = {}): Uint8Array {
  checkImageSize(encrypted, 'encrypted image');
  const sequential = options.tweak === 'sequential';
  const slots: { page: number; slot: number; tweakSlot: number }[] = [];
  for (let page = 0; page < encrypted.length / NVS_PAGE_SIZE; page++) {
    let decrypted = 0;
    for (let slot = 0; slot < ENTRIES_PER_PAGE; slot++) {
      const at = slotOffset(page, slot);
      if (isErased(encrypted.subarray(at, at + NVS_ENTRY_SIZE))) continue;
      slots.push({ page, slot, tweakSlot: sequential ? decrypted : slot });
      decrypted++;
    }
  }
  return transformSlots(encrypted, keys, slots, true, options.aes ?? nobleAes);
}
