// Property tests: any valid table survives table → binary → table → CSV → table → binary unchanged.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  PartitionTableError,
  parsePartitionBinary,
  parsePartitionCsv,
  partitionTableToBinary,
  partitionTableToCsv,
  verifyPartitionTable,
  type PartitionEntry,
  type PartitionTable,
} from '../../shared/partition/index.ts';
import { pyIntBase0 } from '../../shared/partition/python-text.ts';

const KIB4 = 0x1000;

interface Draft {
  kind: 'app' | 'data' | 'custom';
  subtype: number;
  gapSectors: number;
  sizeSectors: number;
  encrypted: boolean;
  readonly: boolean;
  suffix: string;
}

// Data subtypes that have no extra rules (ota/coredump/nvs/tee_ota have their own, tested elsewhere)
// plus nvs with a large enough size.
const dataSubtype = fc.oneof(fc.constantFrom(0x01, 0x02, 0x04, 0x05, 0x06, 0x80, 0x81, 0x82, 0x83), fc.integer({ min: 0x07, max: 0x7f }));
const appSubtype = fc.oneof(fc.constantFrom(0x00, 0x20, 0x30, 0x31), fc.integer({ min: 0x10, max: 0x1f }), fc.integer({ min: 0x21, max: 0xff }));

const draft: fc.Arbitrary<Draft> = fc.record({
  kind: fc.constantFrom('app', 'data', 'custom'),
  subtype: fc.integer({ min: 0, max: 0xff }),
  gapSectors: fc.integer({ min: 0, max: 40 }),
  sizeSectors: fc.integer({ min: 1, max: 600 }),
  encrypted: fc.boolean(),
  readonly: fc.boolean(),
  suffix: fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-.é'), maxLength: 12 }),
});

/** Lays drafts out in ascending, aligned, non-overlapping order after the table at `tableOffset`. */
function toTable(drafts: Draft[], subtypes: number[], tableOffset: number): PartitionTable {
  let end = tableOffset + KIB4;
  const entries = drafts.map((d, i): PartitionEntry => {
    const type = d.kind === 'app' ? 0x00 : d.kind === 'data' ? 0x01 : 0x40 + (d.subtype % 0xbf);
    const align = type === 0 ? 0x10000 : KIB4;
    const offset = Math.ceil(end / align) * align + d.gapSectors * align;
    const subtype = d.kind === 'custom' ? d.subtype : subtypes[i]!;
    let size = d.sizeSectors * KIB4;
    if (type === 0x01 && subtype === 0x02 && !d.readonly) size = Math.max(size, 0x3000);
    end = offset + size;
    // Names are cut to 16 UTF-8 bytes (whole characters) so the binary holds them unchanged.
    const name = `p${i}~${d.suffix}`; // '~' is not in the suffix alphabet: names stay unique
    return { name: new TextDecoder().decode(new TextEncoder().encode(name).subarray(0, 16)).replace(/\uFFFD$/, ''), type, subtype, offset, size, flags: { encrypted: d.encrypted, readonly: d.readonly } };
  });
  return { entries };
}

const tableArb = fc
  .record({
    drafts: fc.array(draft, { minLength: 0, maxLength: 94 }),
    tableOffset: fc.constantFrom(0x8000, 0x9000, 0x10000),
    md5: fc.boolean(),
  })
  .chain(({ drafts, tableOffset, md5 }) =>
    fc.tuple(fc.tuple(...drafts.map((d) => (d.kind === 'app' ? appSubtype : dataSubtype))), fc.constant(drafts)).map(([subtypes, ds]) => ({
      table: toTable(ds, subtypes, tableOffset),
      tableOffset,
      md5,
    })),
  );

const strip = (t: PartitionTable) => t.entries.map(({ line: _line, ...e }) => e);

describe('round trips', () => {
  it('table → binary → table → CSV → table → binary is the identity', () => {
    fc.assert(
      fc.property(tableArb, ({ table, tableOffset, md5 }) => {
        verifyPartitionTable(table, { offset: tableOffset }); // the generator only makes valid tables
        const bin = partitionTableToBinary(table, { md5 });
        expect(bin.length).toBe(3072);
        const back = parsePartitionBinary(bin, { md5, offset: tableOffset });
        expect(strip(back)).toEqual(strip(table));
        const csv = partitionTableToCsv(back);
        const again = parsePartitionCsv(csv, { offset: tableOffset });
        expect(strip(again)).toEqual(strip(table));
        expect(again.entries.map((e) => e.line)).toEqual(table.entries.map((_, i) => i + 3)); // two header lines
        expect(Buffer.from(partitionTableToBinary(again, { md5 })).equals(Buffer.from(bin))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('a CSV with every offset left empty places partitions exactly where the generator did (no gaps)', () => {
    fc.assert(
      fc.property(tableArb, ({ table, tableOffset, md5 }) => {
        const csv = partitionTableToCsv(table)
          .split('\n')
          .map((row) => (row.startsWith('#') || row === '' ? row : row.split(',').map((f, i) => (i === 3 ? '' : f)).join(',')))
          .join('\n');
        const placed = parsePartitionCsv(csv, { offset: tableOffset, verify: false });
        let end = tableOffset + KIB4;
        for (const e of placed.entries) {
          const align = e.type === 0 ? 0x10000 : KIB4;
          expect(e.offset).toBe(Math.ceil(end / align) * align);
          end = e.offset + e.size;
        }
        expect(partitionTableToBinary(placed, { md5 }).length).toBe(3072);
      }),
      { numRuns: 60 },
    );
  });

  it('sizes print back to the same number in every notation the CSV accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x3fffff }), (n) => {
        const row = (size: string) => parsePartitionCsv(`x,0x40,0,0x9000,${size}\n`, { verify: false }).entries[0]!.size;
        expect(row(`0x${n.toString(16)}`)).toBe(n);
        expect(row(String(n))).toBe(n);
        expect(row(`${n}k`)).toBe(n * 1024);
        expect(row(`0o${n.toString(8)}K`)).toBe(n * 1024);
        expect(row(`0b${n.toString(2)}`)).toBe(n);
        expect(pyIntBase0(`0x${n.toString(16).toUpperCase()}`)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it('more than 94 partitions (95 without MD5) do not fit', () => {
    const entries = Array.from({ length: 95 }, (_, i): PartitionEntry => ({
      name: `p${i}`, type: 1, subtype: 0x81, offset: 0x9000 + i * KIB4, size: KIB4, flags: { encrypted: false, readonly: false },
    }));
    expect(() => partitionTableToBinary({ entries })).toThrow(new PartitionTableError('Binary partition table length (3072) longer than max', { code: 'too-long' }));
    expect(partitionTableToBinary({ entries }, { md5: false }).subarray(95 * 32).every((b) => b === 0xff)).toBe(true);
  });
});
