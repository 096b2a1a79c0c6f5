// Custom-data batches (--conf/--values/--fileid): same layout and formats as the reference run in
// the vectors, and bad input stops the batch with file/line/column before anything is written.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, listFiles, readMaster, runBatch, tempDir } from './helpers.ts';

const REF = join(FIXTURES, 'mfg', 'custom-data-fileid');
const REF_ARGS = JSON.parse(readFileSync(join(REF, 'run.json'), 'utf8')).argv.slice(1) as string[];
const HEX = /^[0-9a-f]+$/;

function setup(tag: string, files: Record<string, string> = {}): string {
  const dir = tempDir(tag);
  cpSync(join(REF, 'sample_config.csv'), join(dir, 'sample_config.csv'));
  cpSync(join(REF, 'sample_values.csv'), join(dir, 'sample_values.csv'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('custom-data batch matches the reference layout', () => {
  it('same files, CSV rows (random values aside), master files and txt format', async () => {
    const dir = setup('layout');
    const r = await runBatch(dir, [...REF_ARGS, '--labels', 'none']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const ours = listFiles(join(dir, 'images')).filter((f) => !/^homekit_(batch|manifest)_/.test(f));
    const theirs = listFiles(join(REF, 'images'));
    expect(ours).toEqual(theirs);

    // Per-accessory CSVs: identical except the three random setup values.
    const mask = (text: string) =>
      text.replace(/^setup_id,data,binary,[0-9A-Z]{4}\r$/m, 'setup_id,data,binary,ID\r').replace(/^(setup_(salt|verifier),data,hex2bin,)[0-9a-f]+\r$/gm, '$1HEX\r');
    for (const f of ours.filter((n) => n.startsWith('csv/'))) {
      expect(mask(readFileSync(join(dir, 'images', f), 'utf8'))).toBe(mask(readFileSync(join(REF, 'images', f), 'utf8')));
    }
    expect(readFileSync(join(dir, 'images', 'homekit_sample_config.csv'), 'utf8')).toBe(readFileSync(join(REF, 'images', 'homekit_sample_config.csv'), 'utf8'));

    const m = readMaster(join(dir, 'images', 'homekit_sample_values.csv'));
    const ref = readMaster(join(REF, 'images', 'homekit_sample_values.csv'));
    expect(m.header).toEqual(ref.header);
    m.rows.forEach((row, i) => {
      expect(row.slice(0, 3)).toEqual(ref.rows[i]!.slice(0, 3));
      const [id, code, salt, verifier, payload, pd] = row.slice(3);
      expect(id).toMatch(/^[0-9A-Z]{4}$/);
      expect(code).toMatch(/^\d{3}-\d{2}-\d{3}$/);
      expect(salt).toMatch(HEX);
      expect(salt).toHaveLength(32);
      expect(verifier).toHaveLength(768);
      expect(payload).toMatch(new RegExp(`^X-HM://[0-9A-Z]{9}${id}0CZ067T6WCYA44AY9S$`));
      expect(pd).toBe('1122334455667788');
      const txt = readFileSync(join(dir, 'images', 'homekit_setup_info', `Fan-${row[2]}.txt`), 'utf8');
      expect(txt).toBe(`Setup Code: ${code}\nSetup Payload: ${payload}\n`);
    });
  }, 180_000);

  it('a second run in the same folder does not clash (names get a suffix)', async () => {
    const dir = tempDir('twice');
    const args = ['--prefix', 'Fan', '--count', '3', '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--labels', 'none'];
    expect((await runBatch(dir, args)).code).toBe(0);
    const second = await runBatch(dir, args);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    const masters = listFiles(join(dir, 'o')).filter((f) => f.startsWith('homekit_values_'));
    expect(masters).toHaveLength(2);
    expect(listFiles(join(dir, 'o')).filter((f) => f.startsWith('bin/'))).toHaveLength(6);
  }, 180_000);
});

describe('bad input: one clear line naming file, line and column; nothing written', () => {
  const cases: [string, Record<string, string>, string[], RegExp][] = [
    ['missing column', { 'v.csv': 'id,firmware_key\n1,aabb\n' }, ['--values', 'v.csv'], /^v\.csv, line 1, column `serial_no`: missing column: sample_config\.csv line 3/],
    ['value does not fit its type', { 'v.csv': 'id,firmware_key,serial_no\n1,aabb,101\n2,ccdd,99999999999\n' }, ['--values', 'v.csv'], /^v\.csv, line 3, column `serial_no`: i32 value 99999999999 is out of range/],
    ['odd hex', { 'v.csv': 'id,firmware_key,serial_no\n1,aab,101\n' }, ['--values', 'v.csv'], /^v\.csv, line 2, column `firmware_key`: hex2bin value has an odd number/],
    ['duplicate file id', { 'v.csv': 'id,firmware_key,serial_no\n1,aabb,101\n2,ccdd,102\n3,eeff,101\n' }, ['--values', 'v.csv'], /^v\.csv, line 4, column `serial_no`: duplicate value "101" \(also on line 2\)/],
    ['row with a missing value', { 'v.csv': 'id,firmware_key,serial_no\n1,aabb\n' }, ['--values', 'v.csv'], /^v\.csv, line 2: 2 values for 3 columns/],
    ['bad encoding in config', { 'c.csv': 'app,namespace,\nserial_no,data,int\n' }, ['--conf', 'c.csv'], /^c\.csv, line 2, column `serial_no`: encoding must be one of/],
    ['config without namespace first', { 'c.csv': 'serial_no,data,i32\n' }, ['--conf', 'c.csv'], /^c\.csv, line 1, column `serial_no`: the first line must declare a namespace/],
    ['unknown --fileid column', {}, ['--fileid', 'serial'], /^sample_values\.csv, line 1: --fileid serial: no such column/],
  ];
  for (const [title, files, override, message] of cases) {
    it(title, async () => {
      const dir = setup('bad', files);
      const args = [...REF_ARGS];
      for (let i = 0; i < override.length; i += 2) args[args.indexOf(override[i]!) + 1] = override[i + 1]!;
      const r = await runBatch(dir, args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trimEnd().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'images'))).toBe(false);
    });
  }
});
