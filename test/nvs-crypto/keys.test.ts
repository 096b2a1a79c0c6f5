// Keys partition layout, CRC check and HMAC derivation against files the reference tools wrote.
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  buildKeysPartition,
  deriveNvsKeysFromHmac,
  generateNvsKeys,
  NvsKeysError,
  parseKeysFile,
  parseKeysPartition,
} from '../../shared/nvs/keys.ts';
import { expectSameBytes } from './bytes.ts';

const NVS = join(import.meta.dirname, '../fixtures/nvs');
const load = (name: string) => new Uint8Array(readFileSync(join(NVS, name)));
const KEY_FILES = ['enc_basic.keys.bin', 'enc_hmac.keys.bin', 'enc_roundtrip.keys.bin', 'idf_sample_encryption_keys_hmac.bin'];

describe('keys partition', () => {
  for (const name of KEY_FILES) {
    it(`${name}: parses, and rebuilding it gives the same 4096 bytes`, () => {
      const bin = load(name);
      const keys = parseKeysPartition(bin);
      expect(keys.encryptionKey).toEqual(bin.subarray(0, 32));
      expect(keys.tweakKey).toEqual(bin.subarray(32, 64));
      expectSameBytes(buildKeysPartition(keys), bin);
    });
  }

  it('layout: eky ‖ tky ‖ zlib crc32(64 bytes, 0xFFFFFFFF) LE ‖ 0xFF', () => {
    const eky = new Uint8Array(32).map((_, i) => i);
    const tky = new Uint8Array(32).map((_, i) => 0x80 + i);
    const bin = buildKeysPartition({ encryptionKey: eky, tweakKey: tky });
    expect(bin.length).toBe(4096);
    expect(bin.subarray(0, 32)).toEqual(eky);
    expect(bin.subarray(32, 64)).toEqual(tky);
    // zlib.crc32(data, 0xFFFFFFFF) is the reference's CRC call (spec §4), computed independently here.
    expect(new DataView(bin.buffer).getUint32(64, true)).toBe(crc32(Buffer.from(bin.subarray(0, 64)), 0xffffffff) >>> 0);
    expect(bin.subarray(68).every((b) => b === 0xff)).toBe(true);
  });

  it('rejects a corrupted keys file with a clear message', () => {
    const bin = load('enc_basic.keys.bin');
    bin[5] ^= 0x01;
    expect(() => parseKeysPartition(bin)).toThrow(NvsKeysError);
    expect(() => parseKeysPartition(bin)).toThrow(/^keys file is corrupted: CRC32 at offset 64 is 0x[0-9a-f]{8}, the 64 key bytes give 0x[0-9a-f]{8}$/);
    const crcDamaged = load('enc_basic.keys.bin');
    crcDamaged[66] ^= 0x80;
    expect(() => parseKeysPartition(crcDamaged)).toThrow(/corrupted/);
  });

  it('rejects wrong sizes and an erased (all 0xFF) keys partition', () => {
    expect(() => parseKeysPartition(load('enc_basic.keys.bin').subarray(0, 4000))).toThrow('keys file is 4000 bytes; an NVS keys partition is exactly 4096 bytes');
    expect(() => parseKeysPartition(new Uint8Array(4096).fill(0xff))).toThrow(/empty \(all 0xFF\)/);
  });

  it('parseKeysFile: a keys partition (CRC-checked) or 64 bare key bytes', () => {
    const bin = load('enc_hmac.keys.bin');
    expect(parseKeysFile(bin)).toEqual(parseKeysPartition(bin));
    expect(parseKeysFile(bin.slice(0, 64))).toEqual(parseKeysPartition(bin));
    expect(() => parseKeysFile(bin.slice(0, 68))).toThrow(/68 bytes/);
  });
});

describe('HMAC-derived keys', () => {
  it('enc_hmac.hmac_key.bin → enc_hmac.keys.bin (reference generate-key --key_protect_hmac)', () => {
    expectSameBytes(buildKeysPartition(deriveNvsKeysFromHmac(load('enc_hmac.hmac_key.bin'))), load('enc_hmac.keys.bin'));
  });

  it("ESP-IDF's own testdata pair: sample_hmac_key.bin → sample_encryption_keys_hmac.bin", () => {
    expectSameBytes(buildKeysPartition(deriveNvsKeysFromHmac(load('idf_sample_hmac_key.bin'))), load('idf_sample_encryption_keys_hmac.bin'));
  });

  it('matches HMAC-SHA256 over the documented seeds (independent: node:crypto)', () => {
    const h = new Uint8Array(32).map((_, i) => 0xa0 ^ i);
    const seed = (b: number[]) => Buffer.from(Array.from({ length: 8 }, () => b).flat());
    const keys = deriveNvsKeysFromHmac(h);
    expect(Buffer.from(keys.encryptionKey)).toEqual(createHmac('sha256', h).update(seed([0x5a, 0x5a, 0xbe, 0xae])).digest());
    expect(Buffer.from(keys.tweakKey)).toEqual(createHmac('sha256', h).update(seed([0xa5, 0xa5, 0xde, 0xce])).digest());
  });
});

describe('generateNvsKeys', () => {
  it('splits the random bytes into eky and tky', () => {
    const bytes = new Uint8Array(64).map((_, i) => 255 - i);
    const keys = generateNvsKeys((n) => bytes.slice(0, n));
    expect(keys.encryptionKey).toEqual(bytes.subarray(0, 32));
    expect(keys.tweakKey).toEqual(bytes.subarray(32, 64));
  });

  it('uses the CSPRNG by default: fresh keys each call', () => {
    const a = generateNvsKeys();
    const b = generateNvsKeys();
    expect(a.encryptionKey.length).toBe(32);
    expect(a.tweakKey.length).toBe(32);
    expect(a.encryptionKey).not.toEqual(b.encryptionKey);
    expect(a.encryptionKey).not.toEqual(a.tweakKey);
  });

  it('refuses a random source that returns the wrong length', () => {
    expect(() => generateNvsKeys(() => new Uint8Array(10))).toThrow(/10 bytes/);
  });
});
