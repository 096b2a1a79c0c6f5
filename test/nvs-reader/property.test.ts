// Property: any CSV the generator accepts reads back as exactly the rows it was made from, with no
// problems — random namespaces, keys, every integer type (limits included), strings with quoting
// and non-ASCII text, hex2bin / base64 / binary blobs (empty to multi-page), v1 and v2, random
// partition sizes. And encryption round-trips for any keys.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateNvsImage } from '../../shared/nvs/writer.ts';
import { readNvsImage, type NvsItemType } from '../../shared/nvs/reader.ts';
import { decryptNvsImage, encryptNvsImage } from '../../shared/nvs/encryption.ts';
import { firstDifference } from '../nvs-crypto/bytes.ts';

type IntType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64';
const INT_RANGE: Record<IntType, [bigint, bigint]> = {
  u8: [0n, 255n],
  i8: [-128n, 127n],
  u16: [0n, 65535n],
  i16: [-32768n, 32767n],
  u32: [0n, 4294967295n],
  i32: [-2147483648n, 2147483647n],
  u64: [0n, 18446744073709551615n],
  i64: [-9223372036854775808n, 9223372036854775807n],
};

interface Row {
  key: string;
  encoding: string;
  text: string; // CSV value as written
  expected: { type: NvsItemType; value: bigint | string | Uint8Array };
  payloadBytes: number;
}

const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,14}$/);
const STRING_CHARS = ['a', 'Z', '0', ' ', ',', '"', "'", ';', 'é', '✓', '中', '😀', '\t', '#', '='];

function intRow(type: IntType): fc.Arbitrary<Omit<Row, 'key'>> {
  const [min, max] = INT_RANGE[type];
  return fc.oneof(fc.constantFrom(min, max, 0n), fc.bigInt(min, max)).map((v) => ({
    encoding: type,
    text: v.toString(),
    expected: { type, value: v },
    payloadBytes: 0,
  }));
}

function blobRows(maxBlob: number): fc.Arbitrary<Omit<Row, 'key'>>[] {
  // size 'max' so that long (and, in v2, multi-page) blobs really occur, not just fast-check's small default.
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: maxBlob, size: 'max' }));
  return [
    fc.tuple(bytes, fc.boolean()).map(([b, upper]) => {
      const hex = Buffer.from(b).toString('hex');
      return { encoding: 'hex2bin', text: upper ? hex.toUpperCase() : hex, expected: { type: 'blob' as const, value: b }, payloadBytes: b.length };
    }),
    bytes.map((b) => ({ encoding: 'base64', text: Buffer.from(b).toString('base64'), expected: { type: 'blob' as const, value: b }, payloadBytes: b.length })),
    fc.stringMatching(/^[ -~]{0,200}$/, { size: 'max' }).map((t) => ({
      encoding: 'binary',
      text: t,
      expected: { type: 'blob' as const, value: new TextEncoder().encode(t) },
      payloadBytes: t.length,
    })),
  ];
}

const stringRow: fc.Arbitrary<Omit<Row, 'key'>> = fc
  .oneof(fc.array(fc.constantFrom(...STRING_CHARS)), fc.array(fc.constantFrom(...STRING_CHARS), { maxLength: 400, size: 'max' }))
  .map((chars) => {
    const s = chars.join('');
    return { encoding: 'string', text: s, expected: { type: 'string' as const, value: s }, payloadBytes: new TextEncoder().encode(s).length + 1 };
  });

function valueRow(version: 1 | 2): fc.Arbitrary<Omit<Row, 'key'>> {
  return fc.oneof(
    ...(Object.keys(INT_RANGE) as IntType[]).map(intRow),
    stringRow,
    ...blobRows(version === 1 ? 1984 : 6000),
  );
}

interface Case {
  version: 1 | 2;
  namespaces: { name: string; rows: Row[] }[];
  extraPages: number;
}

const caseArb: fc.Arbitrary<Case> = fc.constantFrom<1 | 2>(1, 2).chain((version) =>
  fc.record({
    version: fc.constant(version),
    extraPages: fc.integer({ min: 0, max: 2 }),
    namespaces: fc.uniqueArray(
      fc.record({
        name,
        rows: fc.uniqueArray(fc.tuple(name, valueRow(version)).map(([key, r]) => ({ key, ...r })), {
          selector: (r) => r.key,
          maxLength: 12,
        }),
      }),
      { selector: (n) => n.name, minLength: 1, maxLength: 4 },
    ),
  }),
);

const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;

function toCsv(c: Case): string {
  const lines = ['key,type,encoding,value'];
  for (const ns of c.namespaces) {
    lines.push(`${ns.name},namespace,,`);
    for (const r of ns.rows) lines.push(`${r.key},data,${r.encoding},${quote(r.text)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A partition surely large enough: every item may waste < 64 slots at a page end. */
function partitionSize(c: Case): number {
  let slots = 0;
  for (const ns of c.namespaces) {
    slots += 1;
    for (const r of ns.rows) slots += 1 + Math.ceil(r.payloadBytes / 32) + (r.expected.type === 'blob' ? 3 + Math.ceil(r.payloadBytes / 3968) : 0);
  }
  return (Math.ceil(slots / 60) + 2 + c.extraPages) * 4096;
}

const bytesHex = (v: bigint | string | Uint8Array) => (v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : v);

describe('generate → read round trip (property)', () => {
  it('every generated image reads back as its CSV rows, with no problems', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const image = generateNvsImage(toCsv(c), { size: partitionSize(c), version: c.version });
        const result = readNvsImage(image);
        expect(result.problems).toEqual([]);
        const expected = c.namespaces.flatMap((ns) =>
          ns.rows.map((r) => ({ namespace: ns.name, key: r.key, type: r.expected.type, value: bytesHex(r.expected.value) })),
        );
        expect(result.items.map((it) => ({ namespace: it.namespace, key: it.key, type: it.type, value: bytesHex(it.value) }))).toEqual(expected);
        expect(result.namespaces.map((n) => n.name)).toEqual(c.namespaces.map((n) => n.name));
        for (const it of result.items) {
          expect(it.intact).toBe(true);
          if (it.type === 'blob') expect(it.blobFormat).toBe(c.version === 1 ? 'v1' : 'v2');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('encrypt → decrypt gives the image back, for any keys', () => {
    fc.assert(
      fc.property(caseArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (c, eky, tky) => {
        const keys = { encryptionKey: eky, tweakKey: tky };
        const image = generateNvsImage(toCsv(c), { size: partitionSize(c), version: c.version });
        const enc = encryptNvsImage(image, keys);
        expect(firstDifference(decryptNvsImage(enc, keys), image)).toBeNull();
        expect(firstDifference(decryptNvsImage(enc, keys, { tweak: 'sequential' }), image)).toBeNull();
        // headers and bitmaps stay readable without the keys
        expect(readNvsImage(enc).pages.map((p) => [p.state, p.writtenEntries])).toEqual(readNvsImage(image).pages.map((p) => [p.state, p.writtenEntries]));
      }),
      { numRuns: 60 },
    );
  });
});
