// Python-compatible value conversions; expectations are CPython's results for the same inputs
// (spec §9, §10) and the CRC check values of spec §4.
import { describe, expect, it } from 'vitest';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { decodeBase64Lenient, decodeHex, parsePyInt10, parsePyIntBase0 } from '../../shared/nvs/values.ts';
import { crc32, entryCrc, pageHeaderCrc } from '../../shared/nvs/format.ts';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const b64 = (s: string) => {
  const r = decodeBase64Lenient(ascii(s));
  return 'error' in r ? r : Buffer.from(r).toString('latin1');
};

describe('NVS crc32', () => {
  it('matches the spec check values', () => {
    expect(crc32(ascii('123456789'))).toBe(0xd202d277);
    expect(crc32(new Uint8Array())).toBe(0xffffffff);
  });
  it('equals zlib crc32(data, 0xFFFFFFFF) and can be continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 50 }), (a, b) => {
        expect(crc32(a)).toBe(zlibCrc32(a, 0xffffffff) >>> 0);
        expect(crc32(b, crc32(a))).toBe(zlibCrc32(Buffer.concat([a, b]), 0xffffffff) >>> 0);
      }),
    );
  });
  it('reproduces the worked example of spec §5', () => {
    const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
    expect(pageHeaderCrc(hex('feffffff00000000fe' + 'ff'.repeat(23)))).toBe(0xb9ba2d84);
    const e = hex('000101ffb2ad758963666700000000000000000000000000 01ffffffffffffff');
    expect(entryCrc(e)).toBe(0x8975adb2);
  });
});

describe('parsePyInt10 (Python int(text))', () => {
  it.each([
    ['42', 42n], [' 42 ', 42n], ['+7', 7n], ['-128', -128n], ['1_000', 1000n], ['007', 7n],
    ['\t9\n', 9n], ['18446744073709551615', 18446744073709551615n],
  ])('%j -> %s', (text, value) => expect(parsePyInt10(text)).toBe(value));
  it.each(['', ' ', '0x10', '1.5', '_1', '1_', '1__0', '+-1', '1e3', 'abc'])('%j is not an integer', (text) => {
    expect(parsePyInt10(text)).toBeUndefined();
  });
});

describe('parsePyIntBase0 (Python int(text, 0))', () => {
  it.each([
    ['0x3000', 0x3000n], ['12288', 12288n], ['0o30000', 0o30000n], ['0x3_000', 0x3000n], ['0X10', 16n],
    ['0b1', 1n], ['0', 0n], ['000', 0n], ['-4096', -4096n], ['0x_10', 16n],
  ])('%j -> %s', (text, value) => expect(parsePyIntBase0(text)).toBe(value));
  it.each(['12k', '012', '0x', '', '1.0', '0x1__0'])('%j is refused', (text) => {
    expect(parsePyIntBase0(text)).toBeUndefined();
  });
});

describe('decodeHex (binascii.a2b_hex)', () => {
  it('decodes either case', () => {
    expect(Buffer.from(decodeHex('DEADbeef') as Uint8Array).toString('hex')).toBe('deadbeef');
  });
  it('names the first bad character', () => {
    expect(decodeHex('zz')).toEqual({ badChar: 'z' });
    expect(decodeHex('a g0')).toEqual({ badChar: ' ' });
  });
});

describe('decodeBase64Lenient (binascii.a2b_base64, non-strict)', () => {
  it.each([
    ['SGVsbG8=', 'Hello'],
    ['SGVs bG8g V29y bGQ=', 'Hello World'],
    ['SGVsbG8=xyz', 'Hello'],
    ['ab==cd', 'i'],
    ['=SGVsbG8=', 'Hello'],
    ['S=GVsbG8=', 'Hello'],
    ['SG\nVs\r\nbG8=', 'Hello'],
    ['', ''],
    ['TQ==', 'M'],
    ['TWE=', 'Ma'],
  ])('%j -> %j', (input, output) => expect(b64(input)).toBe(output));
  it('reports a dangling symbol and missing padding like CPython', () => {
    expect(b64('SGVsbG8hA')).toEqual({ error: 'Invalid base64-encoded string: number of data characters (9) cannot be 1 more than a multiple of 4' });
    expect(b64('SGVsbG8')).toEqual({ error: 'Incorrect padding' });
    expect(b64('ab=')).toEqual({ error: 'Incorrect padding' });
  });
  it('agrees with a strict decoder on canonical base64', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const decoded = decodeBase64Lenient(ascii(Buffer.from(bytes).toString('base64')));
        expect(Buffer.from(decoded as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
      }),
    );
  });
});
