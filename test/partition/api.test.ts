// The shared/partition API against the golden vectors (gen_esp32part.py 1.5) and hand-derived facts.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  PartitionTableError,
  checkImageFits,
  decodePartitionBinary,
  decodePartitionCsvText,
  expandVariables,
  findPartition,
  findPartitions,
  isPartitionBinary,
  parsePartitionBinary,
  parsePartitionCsv,
  parsePartitionInput,
  partitionTableToBinary,
  partitionTableToCsv,
  requirePartition,
  type PartitionTable,
} from '../../shared/partition/index.ts';
import { compareCodePoints, pyBytesRepr, pyFixed1, pyIntBase0, pySplitLines, pyStrip } from '../../shared/partition/python-text.ts';
import { fixture, optionsOf, vectorRuns } from './vectors.ts';

const runs = vectorRuns();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Runs `fn`, returning what the tool would have printed on stderr for its failure (warnings, details, message). */
function failureText(fn: (warn: (w: string) => void) => void): string {
  const warnings: string[] = [];
  try {
    fn((w) => warnings.push(w));
  } catch (err) {
    expect(err).toBeInstanceOf(PartitionTableError);
    const e = err as PartitionTableError;
    return [...warnings, ...e.details, e.message].join('\n');
  }
  throw new Error('expected a PartitionTableError');
}

describe('golden vectors through the API', () => {
  const toBinary = runs.filter((r) => r.run.ok && r.run.id === 'bin');
  const toCsv = runs.filter((r) => r.run.ok && r.run.id === 'rev');
  const failures = runs.filter((r) => !r.run.ok);

  it('has every case of the vector folder', () => {
    expect(toBinary.length).toBe(9);
    expect(toCsv.length).toBe(9);
    expect(failures.length).toBe(17);
  });

  it.each(toBinary.map((r) => [r.id, r] as const))('%s: CSV → binary byte-identical', (_id, r) => {
    const { md5, offset, flashSize } = optionsOf(r.args);
    const warnings: string[] = [];
    const table = parsePartitionCsv(text(fixture(r.input)), { offset, flashSize, onWarning: (w) => warnings.push(w) });
    const bin = partitionTableToBinary(table, { md5 });
    expect(bin.length).toBe(3072);
    expect(Buffer.from(bin).equals(Buffer.from(fixture(r.output)))).toBe(true);
    expect(warnings).toEqual([]);
  });

  it.each(toCsv.map((r) => [r.id, r] as const))('%s: binary → CSV byte-identical', (_id, r) => {
    const table = parsePartitionBinary(fixture(r.input));
    const csv = partitionTableToCsv(table);
    expect(csv).toBe(text(fixture(r.output)));
    expect(csv).toBe(r.run.outputs![0]!.text);
  });

  it.each(failures.map((r) => [r.id, r] as const))('%s: rejected with the tool message', (_id, r) => {
    const { md5, offset, flashSize } = optionsOf(r.args);
    const message = failureText((onWarning) => {
      const { table, inputIsBinary } = parsePartitionInput(fixture(r.input), { md5, offset, flashSize, onWarning });
      if (!inputIsBinary) partitionTableToBinary(table, { md5 });
    });
    expect(message).toBe(r.run.error!.message);
  });

  it('ESP-IDF v4.3 output differs only by the empty-subtype default (0x00 instead of 0x06)', () => {
    const table = parsePartitionCsv(text(fixture('partitions_hap.csv')));
    const secCert = findPartition(table, { name: 'sec_cert' })!;
    expect(secCert.subtype).toBe(0x06);
    secCert.subtype = 0x00;
    expect(Buffer.from(partitionTableToBinary(table)).equals(Buffer.from(fixture('partitions_hap.idf_v4_3.bin')))).toBe(true);
  });
});

describe('HomeKit table lookups', () => {
  const table = parsePartitionCsv(text(fixture('partitions_hap.csv')));

  it('finds factory_nvs, nvs_keys and the custom-type sec_cert partition', () => {
    expect(findPartition(table, { name: 'factory_nvs' })).toMatchObject({ type: 1, subtype: 2, offset: 0x340000, size: 0x6000 });
    expect(findPartition(table, { type: 'data', subtype: 'nvs_keys' })).toMatchObject({ name: 'nvs_keys', offset: 0x346000, size: 0x1000 });
    expect(findPartition(table, { type: 0x3f })?.name).toBe('sec_cert');
    expect(findPartition(table, { type: '0x3F', subtype: 6 })?.name).toBe('sec_cert');
    expect(findPartitions(table, { type: 'DATA', subtype: 'nvs' }).map((e) => e.name)).toEqual(['nvs', 'factory_nvs']);
    expect(findPartitions(table, { type: 'app' }).map((e) => e.name)).toEqual(['ota_0', 'ota_1']);
    expect(findPartition(table, { name: 'nvs', subtype: 'phy' })).toBeUndefined();
  });

  it('requirePartition names what is missing; an unknown type keyword is an error', () => {
    expect(() => requirePartition(table, { name: 'factory' })).toThrow("The partition table has no partition with name=factory");
    expect(() => findPartition(table, { type: 'nope' })).toThrow(PartitionTableError);
  });

  it('refuses images larger than their partition', () => {
    const factoryNvs = requirePartition(table, { name: 'factory_nvs' });
    expect(() => checkImageFits(factoryNvs, 0x6000)).not.toThrow();
    expect(() => checkImageFits(factoryNvs, 0x6001)).toThrow("Image of 24577 bytes (0x6001) does not fit partition 'factory_nvs' of 24576 bytes (0x6000) at 0x340000");
  });

  it('tells binary tables from CSV text', () => {
    expect(isPartitionBinary(fixture('partitions_hap.bin'))).toBe(true);
    expect(isPartitionBinary(fixture('partitions_hap.csv'))).toBe(false);
    expect(isPartitionBinary(new Uint8Array([0xaa]))).toBe(false);
    expect(isPartitionBinary(new Uint8Array([0xeb, 0xeb]))).toBe(false);
  });
});

describe('CSV details', () => {
  it('errors carry the CSV line and field', () => {
    const cases: [string, number, string][] = [
      ['# c\n\nnvs,data,nvs,0x9000,024576\n', 3, 'size'],
      ['nvs,,nvs,0x9000,0x6000\n', 1, 'type'],
      ['a,data,nvs,0x9000,0x6000\nb,data,bogus,,4K\n', 2, 'subtype'],
      ['a,data,nvs,zz,0x6000\n', 1, 'offset'],
      ['a,data,nvs,0x9000,0x6000,secure\n', 1, 'flags'],
      ['a,data,nvs,0x9000,0x6000\nb,data,phy,0xe000,0x1000\n', 2, 'offset'],
    ];
    for (const [csv, line, field] of cases) {
      try {
        parsePartitionCsv(csv);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(PartitionTableError);
        expect((err as PartitionTableError).line).toBe(line);
        expect((err as PartitionTableError).field).toBe(field);
      }
    }
  });

  it('expands variables only from the injected env', () => {
    expect(expandVariables('$A,${B},$C,${},$', { A: 'x', B: 'y' })).toBe('x,y,$C,${},$');
    expect(expandVariables('$A$A', { A: '$A' })).toBe('$A$A'); // replacements are not expanded again
    const table = parsePartitionCsv('nvs,data,nvs,$OFF,${SIZE}\n', { env: { OFF: '0x9000', SIZE: '24K' } });
    expect(table.entries[0]).toMatchObject({ offset: 0x9000, size: 0x6000 });
    expect(() => parsePartitionCsv('$NAME,data,nvs,0x9000,0x6000\n')).toThrow("unknown variable 'NAME'");
  });

  it('--no-verify keeps the parse checks but skips validation', () => {
    expect(parsePartitionCsv('nvs,data,nvs,0x9800,0x1000\n', { verify: false }).entries[0]).toMatchObject({ offset: 0x9800, size: 0x1000 });
    expect(() => parsePartitionCsv('nvs,data,nvs,0x9800,0x1000\n')).toThrow('Partition nvs invalid: Offset 0x9800 is not aligned to 0x1000');
  });

  it('places bootloader / partition_table entries from the options', () => {
    const csv = 'bootloader,bootloader,primary,N/A,N/A\npartition_table,partition_table,primary,N/A,N/A\nnvs,data,nvs,,0x6000\n';
    const t = parsePartitionCsv(csv, { primaryBootloaderOffset: 0x1000 });
    expect(t.entries.map((e) => [e.name, e.offset, e.size])).toEqual([
      ['bootloader', 0x1000, 0x7000],
      ['partition_table', 0x8000, 0x1000],
      ['nvs', 0x9000, 0x6000],
    ]);
    expect(() => parsePartitionCsv(csv, { primaryBootloaderOffset: 0x8000 })).toThrow(
      'Unsupported configuration. Primary bootloader must be below partition table. Check --primary-bootloader-offset=0x8000 and --offset=0x8000',
    );
  });

  it('extra subtypes add keywords, used both ways', () => {
    const extraSubtypes = [{ type: 'data' as const, name: 'my_sub', value: 0x40 }];
    const t = parsePartitionCsv('mine,data,MY_SUB,0x9000,4K\n', { extraSubtypes });
    expect(t.entries[0]!.subtype).toBe(0x40);
    expect(() => parsePartitionCsv('mine,data,nvs,0x9000,4K\n', { extraSubtypes: [{ type: 'data', name: 'x', value: 2 }] })).toThrow(
      'Found duplicate value in partition subtype',
    );
  });

  it('decodes CSV bytes by BOM like the tool', () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('a,b', 'utf16le')]);
    expect(decodePartitionCsvText(utf16)).toBe('a,b');
    expect(decodePartitionCsvText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('a');
    expect(decodePartitionCsvText(new Uint8Array([0, 0, 0xfe, 0xff, 0, 0, 0, 0x61]))).toBe('a');
    expect(() => decodePartitionCsvText(new Uint8Array([0x61, 0xff]))).toThrow(PartitionTableError);
  });
});

describe('binary details', () => {
  const table: PartitionTable = {
    entries: [{ name: 'nvs', type: 1, subtype: 2, offset: 0x9000, size: 0x6000, flags: { encrypted: false, readonly: false } }],
  };

  it('lays out records, MD5 record and fill as documented', () => {
    const bin = partitionTableToBinary(table);
    expect([...bin.subarray(0, 12)]).toEqual([0xaa, 0x50, 1, 2, 0x00, 0x90, 0, 0, 0x00, 0x60, 0, 0]);
    expect(text(bin.subarray(12, 15))).toBe('nvs');
    expect([...bin.subarray(15, 32)].every((b) => b === 0)).toBe(true);
    expect([...bin.subarray(32, 48)]).toEqual([0xeb, 0xeb, ...Array(14).fill(0xff)]);
    // MD5 of the record, computed independently by node:crypto.
    expect(Buffer.from(bin.subarray(48, 64)).toString('hex')).toBe(createHash('md5').update(bin.subarray(0, 32)).digest('hex'));
    expect([...bin.subarray(64)].every((b) => b === 0xff)).toBe(true);
  });

  it('a binary written with MD5 cannot be read with MD5 records disabled; an MD5 record may be absent', () => {
    expect(() => decodePartitionBinary(partitionTableToBinary(table), { md5: false })).toThrow(PartitionTableError);
    expect(decodePartitionBinary(partitionTableToBinary(table, { md5: false })).entries).toHaveLength(1);
  });

  it('refuses values the 8/32-bit fields cannot hold', () => {
    const bad = (patch: object) => ({ entries: [{ ...table.entries[0]!, ...patch }] });
    expect(() => partitionTableToBinary(bad({ type: 256 }))).toThrow('Partition nvs: type 0x100 does not fit the binary format (0..0xff)');
    expect(() => partitionTableToBinary(bad({ size: -1 }))).toThrow(PartitionTableError);
    expect(() => partitionTableToBinary(bad({ offset: 2 ** 32 }))).toThrow(PartitionTableError);
  });

  it('cuts names at 16 bytes, even inside a UTF-8 character (then unreadable, as with the tool)', () => {
    const bin = partitionTableToBinary({ entries: [{ ...table.entries[0]!, name: 'aaaaaaaaaaaaaaaé' }] });
    expect([...bin.subarray(12, 28)]).toEqual([...Buffer.from('aaaaaaaaaaaaaaa'), 0xc3]);
    expect(() => decodePartitionBinary(bin)).toThrow("Partition name b'aaaaaaaaaaaaaaa\\xc3' is not valid UTF-8");
  });
});

describe('Python text semantics (expected values checked against CPython 3.11)', () => {
  it('int(x, 0)', () => {
    const cases: [string, number | undefined][] = [
      ['0x_1f', 31], ['1__0', undefined], ['00', 0], ['010', undefined], ['0_0', 0], [' 12 ', 12], ['+0x10', 16],
      ['-5', -5], ['١٢', 12], ['0x', undefined], ['_1', undefined], ['1_', undefined], ['0b_1', 1], ['0O17', 15],
      ['٠x10', 16], ['0xG', undefined], ['１２', 12], ['1.5', undefined], ['', undefined],
    ];
    for (const [input, expected] of cases) expect([input, pyIntBase0(input)]).toEqual([input, expected]);
  });

  it("'%.1f' rounds exact ties to even", () => {
    expect(pyFixed1(0x230000, 0x100000)).toBe('2.2');
    expect(pyFixed1(0x2c0000, 0x100000)).toBe('2.8');
    expect(pyFixed1(0x1b0000, 0x100000)).toBe('1.7');
    expect(pyFixed1(2162688, 0x100000)).toBe('2.1');
  });

  it('splitlines, strip, bytes repr, ordering', () => {
    expect(pySplitLines('a\vb\x1cc\x1dd\x1ee\x1ff\u2028g\r\nh\n')).toEqual(['a', 'b', 'c', 'd', 'e\x1ff', 'g', 'h']);
    expect(pySplitLines('')).toEqual([]);
    expect(pyStrip('\x1f\x85 a \ufeff')).toBe('a \ufeff');
    expect(pyBytesRepr(Buffer.from("A'"))).toBe(`b"A'"`);
    expect(pyBytesRepr(new Uint8Array([0x5c, 0x22, 0x27, 0, 9]))).toBe(`b'\\\\"\\'\\x00\\t'`);
    expect(pyBytesRepr(new Uint8Array([0xeb, 0xeb]))).toBe(`b'\\xeb\\xeb'`);
    expect(compareCodePoints('\u{1F600}', '\uFFFF')).toBeGreaterThan(0);
  });
});
