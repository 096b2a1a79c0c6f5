// XTS-AES-256 NVS encryption against the images the real nvs_partition_gen.py (and the HomeKit SDK
// copy) encrypted, and against Node's OpenSSL aes-256-xts as an independent implementation.
import { describe, expect, it } from 'vitest';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decryptNvsEntries,
  decryptNvsImage,
  encryptNvsEntries,
  encryptNvsImage,
  type AesBlockCipher,
  type NvsKeys,
} from '../../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { readNvsImage } from '../../shared/nvs/reader.ts';
import { expectSameBytes } from './bytes.ts';

const NVS = join(import.meta.dirname, '../fixtures/nvs');
const FACTORY = join(import.meta.dirname, '../fixtures/homekit/factory');
const load = (dir: string, name: string) => new Uint8Array(readFileSync(join(dir, name)));
const keysOf = (dir: string, name: string) => parseKeysPartition(load(dir, name));

/** [plain image, reference-encrypted image, keys file] as produced by the reference tools. */
const PAIRS: [string, string, string][] = [
  ['enc_basic.v2.bin', 'enc_basic.v2.enc.bin', 'enc_basic.keys.bin'],
  ['enc_basic.v1.bin', 'enc_basic.v1.enc.bin', 'enc_basic.keys.bin'],
  ['enc_basic.v2.homekit.bin', 'enc_basic.v2.homekit.enc.bin', 'enc_basic.keys.bin'],
  ['enc_hmac.v2.bin', 'enc_hmac.v2.enc.bin', 'enc_hmac.keys.bin'],
  ['enc_roundtrip.v2.bin', 'enc_roundtrip.v2.enc.bin', 'enc_roundtrip.keys.bin'],
];

/** Node/OpenSSL XTS on one 32-byte unit: an implementation independent of ours. */
function opensslXts(keys: NvsKeys, unit: Uint8Array, offset: number, decrypt: boolean): Uint8Array {
  const tweak = Buffer.alloc(16);
  tweak.writeUIntLE(offset, 0, 6);
  const key = Buffer.concat([keys.encryptionKey, keys.tweakKey]);
  const c = decrypt ? createDecipheriv('aes-256-xts', key, tweak) : createCipheriv('aes-256-xts', key, tweak);
  return new Uint8Array(Buffer.concat([c.update(unit), c.final()]));
}

const randomKeys = (): NvsKeys => ({ encryptionKey: new Uint8Array(randomBytes(32)), tweakKey: new Uint8Array(randomBytes(32)) });

describe('encryptNvsImage / decryptNvsImage on the reference vectors', () => {
  for (const [plain, enc, keys] of PAIRS) {
    it(`encrypt(${plain}) is byte-identical to ${enc}`, () => {
      expectSameBytes(encryptNvsImage(load(NVS, plain), keysOf(NVS, keys)), load(NVS, enc));
    });
    it(`decrypt(${enc}) gives ${plain} (per-slot and reference tweak counting)`, () => {
      expectSameBytes(decryptNvsImage(load(NVS, enc), keysOf(NVS, keys)), load(NVS, plain));
      expectSameBytes(decryptNvsImage(load(NVS, enc), keysOf(NVS, keys), { tweak: 'sequential' }), load(NVS, plain));
    });
  }

  it('HomeKit factory_nvs_gen.py --encrypt with a keys file (case 10) decrypts to the plain factory image (case 01, same code/ID/salt)', () => {
    const keys = keysOf(join(FACTORY, '10-encrypt-keyfile'), 'nvs_keys.bin');
    const plain = load(join(FACTORY, '01-readme-basic'), 'fan_factory.bin');
    expectSameBytes(decryptNvsImage(load(join(FACTORY, '10-encrypt-keyfile'), 'enc.bin'), keys), plain);
    expectSameBytes(encryptNvsImage(plain, keys), load(join(FACTORY, '10-encrypt-keyfile'), 'enc.bin'));
  });

  it('HomeKit --keygen run (case 12) decrypts with the key file it wrote', () => {
    const keys = keysOf(join(FACTORY, '12-keygen', 'keys'), 'encryption_keys_11-23_21-38.bin');
    const plain = load(join(FACTORY, '01-readme-basic'), 'fan_factory.bin');
    expectSameBytes(decryptNvsImage(load(join(FACTORY, '12-keygen'), 'enc.bin'), keys), plain);
  });

  it('leaves page headers, bitmaps and unwritten slots plain', () => {
    const plain = load(NVS, 'enc_roundtrip.v2.bin');
    const enc = encryptNvsImage(plain, randomKeys());
    for (let page = 0; page < plain.length / 4096; page++) {
      const base = page * 4096;
      expect(enc.subarray(base, base + 64)).toEqual(plain.subarray(base, base + 64));
      const info = readNvsImage(plain).pages[page]!;
      for (let slot = info.writtenEntries; slot < 126; slot++) {
        const at = base + 64 + slot * 32;
        expect(enc.subarray(at, at + 32).every((b) => b === 0xff)).toBe(true);
      }
      for (let slot = 0; slot < info.writtenEntries; slot++) {
        const at = base + 64 + slot * 32;
        expect(enc.subarray(at, at + 32)).not.toEqual(plain.subarray(at, at + 32));
      }
    }
  });

  it('encrypts a written payload slot even when it is all 0xFF', () => {
    // Slot 1 of page 0 as the payload of a string whose bytes are 0xFF (spec §12: every written slot).
    const plain = new Uint8Array(4096 * 3).fill(0xff);
    plain[32] = 0b1111_1010; // slots 0 and 1 written
    const keys = randomKeys();
    const enc = encryptNvsImage(plain, keys);
    expect(enc.subarray(96, 128)).toEqual(opensslXts(keys, plain.subarray(96, 128), 96, false));
  });

  it('per-slot tweaks survive a hole; the reference counting does not', () => {
    const keys = keysOf(NVS, 'enc_basic.keys.bin');
    const enc = load(NVS, 'enc_basic.v2.enc.bin');
    const plain = load(NVS, 'enc_basic.v2.bin');
    enc.fill(0xff, 64 + 32 * 2, 64 + 32 * 3); // wipe slot 2
    const bySlot = decryptNvsImage(enc, keys);
    expect(bySlot.subarray(64 + 32 * 3, 64 + 32 * 4)).toEqual(plain.subarray(64 + 32 * 3, 64 + 32 * 4));
    const counted = decryptNvsImage(enc, keys, { tweak: 'sequential' });
    expect(counted.subarray(64 + 32 * 3, 64 + 32 * 4)).not.toEqual(plain.subarray(64 + 32 * 3, 64 + 32 * 4));
  });

  it('rejects images that are not whole pages and keys of the wrong size', () => {
    const keys = randomKeys();
    expect(() => encryptNvsImage(new Uint8Array(100), keys)).toThrow(/100 bytes/);
    expect(() => decryptNvsImage(new Uint8Array(0), keys)).toThrow(/multiple of 4096/);
    expect(() => encryptNvsImage(new Uint8Array(4096).fill(0), { encryptionKey: new Uint8Array(16), tweakKey: new Uint8Array(32) })).toThrow(/32 \+ 32 bytes/);
  });
});

describe('XTS core against OpenSSL aes-256-xts', () => {
  it('matches on random units at random partition offsets, both directions', () => {
    for (let round = 0; round < 20; round++) {
      const keys = randomKeys();
      const n = 1 + (round % 5);
      const units = new Uint8Array(randomBytes(32 * n));
      // offsets as the reference uses them, incl. ones past 16 bits and 32 bits
      const offsets = Array.from({ length: n }, (_, i) => [64, 4096 + 96, 0x1234560 + 32 * i, 2 ** 33 + 64, 0xfffe0][(round + i) % 5]!);
      const ours = encryptNvsEntries(keys, units, offsets);
      const theirs = offsets.map((o, i) => opensslXts(keys, units.subarray(32 * i, 32 * i + 32), o, false));
      expect(ours).toEqual(new Uint8Array(Buffer.concat(theirs)));
      expect(decryptNvsEntries(keys, ours, offsets)).toEqual(units);
    }
  });

  it('accepts an injected AES block primitive (here Node aes-256-ecb) with identical results', () => {
    const nodeAes: AesBlockCipher = {
      encryptBlocks: (key, blocks) => {
        const c = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
        return new Uint8Array(Buffer.concat([c.update(blocks), c.final()]));
      },
      decryptBlocks: (key, blocks) => {
        const c = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
        return new Uint8Array(Buffer.concat([c.update(blocks), c.final()]));
      },
    };
    const keys = keysOf(NVS, 'enc_roundtrip.keys.bin');
    const plain = load(NVS, 'enc_roundtrip.v2.bin');
    expectSameBytes(encryptNvsImage(plain, keys, { aes: nodeAes }), load(NVS, 'enc_roundtrip.v2.enc.bin'));
    expectSameBytes(decryptNvsImage(load(NVS, 'enc_roundtrip.v2.enc.bin'), keys, { aes: nodeAes }), plain);
  });
});

describe('callers keep their input', () => {
  it('encrypting or decrypting a Node Buffer never modifies it', async () => {
    const { encryptNvsImage: enc, decryptNvsImage: dec } = await import('../../shared/nvs/encryption.ts');
    const { readFileSync } = await import('node:fs');
    const plain = readFileSync('test/fixtures/nvs/enc_basic.v2.bin');
    const keysBin = readFileSync('test/fixtures/nvs/enc_basic.keys.bin');
    const { parseKeysPartition } = await import('../../shared/nvs/keys.ts');
    const keys = parseKeysPartition(new Uint8Array(keysBin));
    const before = Buffer.from(plain);
    const encrypted = Buffer.from(enc(plain, keys));
    expect(plain.equals(before)).toBe(true);
    const encBefore = Buffer.from(encrypted);
    dec(encrypted, keys);
    expect(encrypted.equals(encBefore)).toBe(true);
  });
});
