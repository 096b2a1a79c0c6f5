// Command-line rules shared with hk_mfg_gen.py: the reference's error invocations (vector
// cli-errors.json) fail the same way (exit status, nothing written), plus the station's options.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBatchArgs } from '../../src-main/cli/batch-args.ts';
import { decryptNvsImage } from '../../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { findBlob, readNvsImage } from '../../shared/nvs/reader.ts';
import { FIXTURES, readMaster, runBatch, tempDir } from './helpers.ts';

interface CliCase {
  id: string;
  tool: string;
  argv: string[];
  inputs: Record<string, string>;
  exit_code: number;
  stderr: string;
  files_left_behind: string[];
}
const cases = (JSON.parse(readFileSync(join(FIXTURES, 'cli-errors.json'), 'utf8')).cases as CliCase[]).filter((c) => c.tool === 'hk_mfg_gen.py');

describe('hk_mfg_gen.py error invocations', () => {
  it('the vectors hold the expected cases', () => {
    expect(cases.map((c) => c.id).sort()).toEqual(['mfg-cid-range', 'mfg-cid-zero', 'mfg-missing-cid', 'mfg-values-and-count']);
  });
  for (const c of cases) {
    it(`${c.id}: exit ${c.exit_code}, nothing written`, async () => {
      const dir = tempDir('cli');
      for (const [name, text] of Object.entries(c.inputs)) writeFileSync(join(dir, name), text);
      const r = await runBatch(dir, c.argv.slice(1));
      expect(r.code).toBe(c.exit_code);
      expect(r.out).toBe('');
      // Usage errors: one line naming what is missing or wrong and the --help hint; value errors name the option.
      if (c.exit_code === 2) expect(r.err).toMatch(/^factory-station batch: .+ \(see factory-station batch --help\)\n$/);
      else expect(r.err).toMatch(/--cid 256: .*between 1 and 255/);
      expect(readdirSync(dir).sort()).toEqual([...Object.keys(c.inputs), ...c.files_left_behind].sort());
    });
  }
});

describe('station options', () => {
  it('parses the reference options and the additions', () => {
    const a = parseBatchArgs(['--prefix', 'Fan', '--count', '5', '--cid', '3', '--size', '0x3000', '--version', 'V1', '--labels', 'both', '--label-format', 'svg', '--paper', 'letter', '--label-size', '50x25', '--flags', 'ble', '--jobs', '3']);
    expect(a).toMatchObject({ mode: 'generate', prefix: 'Fan', count: 5, category: 3, size: 0x3000, version: 1, fileid: 'setup_code', labels: 'both', labelFormat: 'svg', paper: 'Letter', labelSize: '50x25', payloadFlags: { ip: false, ble: true, wac: false }, jobs: 3 });
    expect(parseBatchArgs(['--resume', '--outdir', 'x'])).toMatchObject({ mode: 'resume', outdir: 'x' });
    expect(parseBatchArgs(['--keygen', 'true'])).toMatchObject({ mode: 'keys-only' });
  });

  it('--resume refuses settings that come from the journal', () => {
    expect(() => parseBatchArgs(['--resume', '--count', '5'])).toThrow(/only --outdir, --db and --jobs/);
  });

  it('encryption options follow the reference rules', () => {
    const base = ['--prefix', 'Fan', '--count', '5', '--cid', '3', '--size', '0x3000'];
    expect(() => parseBatchArgs([...base, '--encrypt', 'true'])).toThrow(/Must provide --keygen or --keyfile/);
    expect(() => parseBatchArgs([...base, '--keyfile', 'k.bin'])).toThrow(/--encrypt is set to false/);
    expect(() => parseBatchArgs([...base, '--encrypt', 'true', '--keygen', 'true', '--keyfile', 'k.bin'])).toThrow(/Cannot provide --keygen and --keyfile/);
    expect(() => parseBatchArgs([...base, '--size', '0x3100'])).toThrow(/multiple of 4096/);
  });

  it('--help lists every reference option', async () => {
    const r = await runBatch(tempDir('help'), ['--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--conf', '--values', '--prefix', '--fileid', '--outdir', '--cid', '--count', '--product-data', '--product_data', '--size', '--version', '--keygen', '--encrypt', '--keyfile', '--resume', '--db', '--labels']) {
      expect(r.out).toContain(opt);
    }
  });

  it('keys-only mode writes one 4096-byte keys file and never overwrites it', async () => {
    const dir = tempDir('keys');
    const r = await runBatch(dir, ['--keygen', 'true', '--keyfile', 'k1', '--outdir', 'o']);
    expect(r.code).toBe(0);
    const key = readFileSync(join(dir, 'o', 'keys', 'k1.bin'));
    expect(key).toHaveLength(4096);
    expect(key.subarray(68).every((b) => b === 0xff)).toBe(true);
    const again = await runBatch(dir, ['--keygen', 'true', '--keyfile', 'k1', '--outdir', 'o']);
    expect(again.code).toBe(1);
    expect(readFileSync(join(dir, 'o', 'keys', 'k1.bin')).equals(key)).toBe(true);
    expect(existsSync(join(dir, 'o', 'keys'))).toBe(true);
  });
});

describe('encrypted batch with --keygen', () => {
  it('one key per accessory; each image decrypts with its own key to the master row', async () => {
    const dir = tempDir('enc');
    const r = await runBatch(dir, ['--prefix', 'Fan', '--count', '3', '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--encrypt', 'true', '--keygen', 'true', '--labels', 'none']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const master = readMaster(join(dir, 'o', readdirSync(join(dir, 'o')).find((f) => f.startsWith('homekit_values_'))!));
    const keys = new Set<string>();
    for (const [id, code, salt] of master.rows) {
      const keyFile = readFileSync(join(dir, 'o', 'keys', `Fan-${code}-keys.bin`));
      keys.add(keyFile.subarray(0, 64).toString('hex'));
      const encrypted = new Uint8Array(readFileSync(join(dir, 'o', 'bin', `Fan-${code}.bin`)));
      expect(findBlob(readNvsImage(encrypted), 'hap_setup', 'setup_salt')).toBeUndefined();
      const image = readNvsImage(decryptNvsImage(encrypted, parseKeysPartition(new Uint8Array(keyFile))));
      expect(image.problems).toEqual([]);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_salt')!).toString('hex')).toBe(salt);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_id')!).toString()).toBe(id);
    }
    expect(keys.size).toBe(3);
  });
});
