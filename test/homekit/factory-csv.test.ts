import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFactoryCsv, declaresHapSetupNamespace } from '../../shared/homekit/factory-csv.ts';
import { computeVerifier } from '../../shared/homekit/srp.ts';
import { SetupDataError } from '../../shared/homekit/setup-code.ts';

const FACTORY = 'test/fixtures/homekit/factory';
const QUIRKS = 'test/fixtures/homekit/quirks';
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

interface CaseJson {
  argv: string[];
  setup_code: string;
  setup_id: string;
  salt_hex: string;
  inputs: string[];
  outputs: { path: string }[];
}
const readCase = (dir: string) => JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
const infileOf = (c: CaseJson) => (c.argv.includes('--infile') ? c.argv[c.argv.indexOf('--infile') + 1] : undefined);

describe('factory CSV = what factory_nvs_gen.py writes', () => {
  for (const name of readdirSync(FACTORY).sort()) {
    it(name, () => {
      const dir = join(FACTORY, name);
      const c = readCase(dir);
      const infile = infileOf(c);
      const salt = unhex(c.salt_hex);
      const csv = buildFactoryCsv({
        setupId: c.setup_id,
        salt,
        verifier: computeVerifier(c.setup_code, salt),
        ...(infile ? { customCsv: readFileSync(join(dir, infile), 'utf8') } : {}),
      });
      const expected = readFileSync(join(dir, c.outputs.find((o) => o.path.endsWith('.csv'))!.path), 'utf8');
      expect(csv).toBe(expected);
    });
  }

  it('is 925 bytes without custom data, with no newline after the verifier', () => {
    const csv = buildFactoryCsv({ setupId: 'ES32', salt: new Uint8Array(16), verifier: new Uint8Array(384) });
    expect(csv.length).toBe(925);
    expect(csv.endsWith('0'.repeat(768))).toBe(true);
    expect(csv.split('\n').slice(0, 2)).toEqual(['key,type,encoding,value', 'hap_setup,namespace,,']);
  });
});

describe('custom CSV merge (--infile)', () => {
  const keys = { setupId: 'ES32', salt: unhex('00112233445566778899aabbccddeeff'), verifier: new Uint8Array(384).fill(0xab) };
  const tail = (csv: string) => csv.slice(csv.indexOf('setup_id,'));

  it('fixes quirk q2: a custom file without final newline is not glued to the namespace line', () => {
    const custom = readFileSync(join(QUIRKS, 'q2-infile-no-trailing-newline/app_data.csv'), 'utf8');
    expect(custom.endsWith('12345')).toBe(true);
    const glued = readFileSync(join(QUIRKS, 'q2-infile-no-trailing-newline/glued.csv'), 'utf8');
    const c = readCase(join(QUIRKS, 'q2-infile-no-trailing-newline'));
    const salt = unhex(c.salt_hex);
    const csv = buildFactoryCsv({ setupId: c.setup_id, salt, verifier: computeVerifier(c.setup_code, salt), customCsv: custom });
    // Expected: the reference's output with the missing line break put back.
    expect(csv).toBe(glued.replace('12345hap_setup,namespace,,', '12345\nhap_setup,namespace,,'));
  });

  it("copies the custom text as Python's text mode does (CRLF and CR become LF, a BOM stays)", () => {
    const csv = buildFactoryCsv({ ...keys, customCsv: '\ufeffkey,type,encoding,value\r\napp,namespace,,\rsn,data,string,1\r\n' });
    expect(csv.startsWith('\ufeffkey,type,encoding,value\napp,namespace,,\nsn,data,string,1\nhap_setup,namespace,,\nsetup_id,')).toBe(true);
  });

  it('adds the namespace line only when a whole line reads hap_setup,namespace,,', () => {
    const base = 'key,type,encoding,value\n';
    expect(buildFactoryCsv({ ...keys, customCsv: `${base}hap_setup,namespace,,\n` })).toBe(`${base}hap_setup,namespace,,\n${tail(buildFactoryCsv(keys))}`);
    for (const notIt of ['hap_setup,namespace,', 'hap_setup,namespace,, ', 'hap_setup,namespace,,x', ' hap_setup,namespace,,', 'hap_setup,namespace,,,']) {
      const csv = buildFactoryCsv({ ...keys, customCsv: `${base}${notIt}\n` });
      expect(csv, notIt).toBe(`${base}${notIt}\nhap_setup,namespace,,\n${tail(csv)}`);
    }
  });

  it('reads lines with csv quoting like the reference (delimiter = newline)', () => {
    expect(declaresHapSetupNamespace('"hap_setup,namespace,,"\n')).toBe(true);
    expect(declaresHapSetupNamespace('"hap_setup",namespace,,\n')).toBe(true);
    expect(declaresHapSetupNamespace('x\nhap_setup,namespace,,')).toBe(true);
    expect(declaresHapSetupNamespace('"a\nhap_setup,namespace,,"\n')).toBe(false);
    expect(declaresHapSetupNamespace('"hap_setup,namespace,,"""\n')).toBe(false);
    expect(declaresHapSetupNamespace('')).toBe(false);
  });

  it('keeps an empty custom file empty (the reference then has no header line either)', () => {
    expect(buildFactoryCsv({ ...keys, customCsv: '' }).startsWith('hap_setup,namespace,,\nsetup_id,data,binary,ES32\n')).toBe(true);
  });
});

describe('input checks', () => {
  const ok = { setupId: 'ES32', salt: new Uint8Array(16), verifier: new Uint8Array(384) };
  it('rejects setup IDs outside [0-9A-Z]{4} (quirk q4) — a comma would corrupt the CSV', () => {
    for (const id of ['es32x', 'ES3', 'ES,2', '']) expect(() => buildFactoryCsv({ ...ok, setupId: id }), id).toThrow(SetupDataError);
  });
  it('rejects salts and verifiers of the wrong length (quirk q5)', () => {
    expect(() => buildFactoryCsv({ ...ok, salt: new Uint8Array(4) })).toThrow(/16 bytes/);
    expect(() => buildFactoryCsv({ ...ok, salt: new Uint8Array(18) })).toThrow(/16 bytes/);
    expect(() => buildFactoryCsv({ ...ok, verifier: new Uint8Array(383) })).toThrow(/384 bytes/);
  });
});
