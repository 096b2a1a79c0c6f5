// The per-accessory files must be exactly what hk_mfg_gen.py writes for the same identity: the
// reference runs in the vectors give identity (setup ID, code, salt) → CSV, bin, txt, masters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBatchConfig, masterConfigText, parseBatchValues } from '../../shared/batch/custom-data.ts';
import { buildUnit, generatedFields, unitFileId, type BatchUnitSpec } from '../../shared/batch/unit.ts';
import { pythonCsvRow } from '../../shared/batch/python-csv.ts';
import { csvRecords } from '../../src-main/batch/inputs.ts';
import { FIXTURES, readMaster } from './helpers.ts';

const HK_ONLY = join(FIXTURES, 'mfg', 'homekit-only');
const CUSTOM = join(FIXTURES, 'mfg', 'custom-data-fileid');
const read = (p: string) => readFileSync(p, 'utf8');

describe('accessory files are byte-identical to hk_mfg_gen.py for the same identity', () => {
  it('HomeKit-only run (cid 3, 0x3000, v2)', () => {
    const master = readMaster(join(HK_ONLY, 'images', 'homekit_values_11-23_21-38.csv'));
    expect(master.header).toEqual(['setup_id', 'setup_code', 'setup_salt', 'setup_verifier', 'setup_payload', 'product_data']);
    const spec: BatchUnitSpec = { category: 3, payloadFlags: { ip: true, wac: true }, size: 0x3000, version: 2 };
    for (const [setupId, code, salt, verifier, payload, productData] of master.rows as string[][]) {
      const identity = { index: 0, setupCode: code!.replace(/-/g, ''), setupId: setupId!, salt: Buffer.from(salt!, 'hex') };
      const built = buildUnit(spec, identity, undefined);
      const name = `Fan-${unitFileId('setup_code', identity, undefined, undefined)}`;
      expect(built.csvText).toBe(read(join(HK_ONLY, 'images', 'csv', `${name}.csv`)));
      expect(Buffer.from(built.image).equals(readFileSync(join(HK_ONLY, 'images', 'bin', `${name}.bin`)))).toBe(true);
      expect(built.txtText).toBe(read(join(HK_ONLY, 'images', 'homekit_setup_info', `${name}.txt`)));
      expect(generatedFields(identity, built, undefined)).toEqual([setupId, code, salt, verifier, payload, productData]);
    }
    expect(masterConfigText(undefined, false)).toBe(read(join(HK_ONLY, 'images', 'homekit_config_11-23_21-38.csv')));
  });

  it('custom data with --fileid serial_no and --product_data', () => {
    const config = parseBatchConfig('sample_config.csv', csvRecords(read(join(CUSTOM, 'sample_config.csv')), 'sample_config.csv'));
    const values = parseBatchValues('sample_values.csv', csvRecords(read(join(CUSTOM, 'sample_values.csv')), 'sample_values.csv'), config, 'serial_no');
    const spec: BatchUnitSpec = {
      configLines: config.lines,
      declaresHapSetup: config.declaresHapSetup,
      valuesHeader: values.header,
      firstRow: values.rows[0]!.fields,
      category: 3,
      productData: '1122334455667788',
      payloadFlags: { ip: true, wac: true },
      size: 0x3000,
      version: 2,
    };
    const masterText = read(join(CUSTOM, 'images', 'homekit_sample_values.csv'));
    const master = readMaster(join(CUSTOM, 'images', 'homekit_sample_values.csv'));
    let rebuilt = pythonCsvRow([...values.header, 'setup_id', 'setup_code', 'setup_salt', 'setup_verifier', 'setup_payload', 'product_data']);
    master.rows.forEach((m, i) => {
      const row = values.rows[i]!.fields;
      const [setupId, code, salt] = m.slice(row.length);
      const identity = { index: i, setupCode: code!.replace(/-/g, ''), setupId: setupId!, salt: Buffer.from(salt!, 'hex') };
      const built = buildUnit(spec, identity, row);
      const name = `Fan-${unitFileId('serial_no', identity, values.header, row)}`;
      expect(built.csvText).toBe(read(join(CUSTOM, 'images', 'csv', `${name}.csv`)));
      expect(Buffer.from(built.image).equals(readFileSync(join(CUSTOM, 'images', 'bin', `${name}.bin`)))).toBe(true);
      expect(built.txtText).toBe(read(join(CUSTOM, 'images', 'homekit_setup_info', `${name}.txt`)));
      rebuilt += pythonCsvRow([...row, ...generatedFields(identity, built, '1122334455667788')]);
    });
    expect(rebuilt).toBe(masterText);
    expect(masterConfigText(read(join(CUSTOM, 'sample_config.csv')), config.declaresHapSetup)).toBe(read(join(CUSTOM, 'images', 'homekit_sample_config.csv')));
  });
});

describe('Python csv.writer quoting', () => {
  it('quotes only fields with comma, quote, CR or LF, and a lone empty field', () => {
    expect(pythonCsvRow(['a', 'b c', ''])).toBe('a,b c,\r\n');
    expect(pythonCsvRow(['x,y', 'say "hi"', 'l1\nl2'])).toBe('"x,y","say ""hi""","l1\nl2"\r\n');
    expect(pythonCsvRow([''])).toBe('""\r\n');
  });
});
