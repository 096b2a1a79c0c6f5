// The profile's JSON Schema (docs/profile.schema.json) says what the station's validator accepts:
// the example and starter profiles pass both; each object lists the same fields in both; errors
// name the field and list what is allowed; sizes take the partition CSV's forms.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { PROFILE_FIELDS, ProfileError, validateProfile } from '../../shared/station/profile.ts';
import { demoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';

const schema = JSON.parse(readFileSync('docs/profile.schema.json', 'utf8'));
const check = new Ajv({ allErrors: true, strict: false }).compile(schema);
const example = () => JSON.parse(readFileSync('examples/fan/profile.json', 'utf8')) as Record<string, unknown>;

/** The fields the validator allows in an object, read from its own error message. */
function allowedBy(validator: (p: unknown) => unknown, profile: Record<string, unknown>, path: string[]): string[] {
  const probe = structuredClone(profile) as Record<string, Record<string, unknown>>;
  let o: Record<string, unknown> = probe;
  for (const k of path) o = (o[k] ??= {}) as Record<string, unknown>;
  o.notAField = 1;
  try {
    validator(probe);
  } catch (err) {
    const m = /unknown field \(allowed: ([^)]*)\)/.exec((err as Error).message);
    if (m) return m[1]!.split(', ').sort();
  }
  throw new Error(`no unknown-field error at ${path.join('.')}`);
}

describe('profile JSON Schema', () => {
  it('accepts the example, the demo and a starter profile, which the station loads too', async () => {
    expect(check(example()), JSON.stringify(check.errors)).toBe(true);
    expect(check(demoProfile()), JSON.stringify(check.errors)).toBe(true);
    expect(check(demoProfile('app')), JSON.stringify(check.errors)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-schema-'));
    expect(await main(['init', 'p'], memoryIO(dir))).toBe(0);
    const starter = JSON.parse(readFileSync(join(dir, 'p/profile.json'), 'utf8'));
    expect(check(starter), JSON.stringify(check.errors)).toBe(true);
    await expect(loadProfile('examples/fan/profile.json')).resolves.toMatchObject({ profile: { id: 'example-fan', nvs: { size: 0x6000 } } });
  });

  it('lists the same fields as the validator, object by object', () => {
    const base = example();
    const props = (p: Record<string, { properties?: Record<string, unknown> }>) => Object.keys(p).sort();
    expect(props(schema.properties)).toEqual([...PROFILE_FIELDS].sort());
    const serial = { format: 'F-{counter}', nvs: { namespace: 'device', key: 'serial' } };
    for (const key of ['nvs', 'firmware', 'customData', 'printer', 'label', 'encryption', 'serial', 'bootCheck']) {
      const p = key === 'encryption' ? { ...base, encryption: { keysFile: 'k.bin' } } : key === 'printer' ? { ...base, printer: { mode: 'zpl', host: '192.0.2.10', dpi: 203 } } : key === 'serial' ? { ...base, serial } : base;
      expect(allowedBy(validateProfile, p, [key]), key).toEqual(props(schema.properties[key].properties));
    }
    expect(allowedBy(validateProfile, { ...base, serial }, ['serial', 'nvs'])).toEqual(props(schema.properties.serial.properties.nvs.properties));
  });

  it('refuses what the validator refuses (a few representative mistakes)', () => {
    for (const broken of [{ ...example(), lable: {} }, { ...example(), flags: 'ip' }, { ...example(), nvs: { size: '24KB' } }, { ...example(), category: 0 }]) {
      expect(check(broken)).toBe(false);
      expect(() => validateProfile(broken)).toThrow(ProfileError);
    }
  });
});

describe('profile messages and sizes', () => {
  it('name the field and show what is allowed', () => {
    const msg = (p: unknown) => {
      try {
        validateProfile(p, 'fan.json');
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(msg({ ...example(), flags: 'ip' })).toBe('fan.json: flags: must be an object like { "ip": true, "ble": false, "wac": true }');
    expect(msg({ ...example(), lable: {} })).toMatch(/^fan\.json: lable: unknown field \(allowed: \$schema, description, schema, id, productName, category, flags/);
    expect(msg({ ...example(), label: { size: 'A6' } })).toMatch(/^fan\.json: label\.size: must be one of "40x30", "25x25", "50x25" or \{ "widthMm": W, "heightMm": H \}/);
    expect(msg({ ...example(), nvs: { size: 'big' } })).toBe('fan.json: nvs.size: must be a size from 0x3000 to 0x100000 bytes: a number, or text like "0x6000" or "24K"');
  });

  it('take sizes as the partition CSV writes them', () => {
    for (const size of [24576, '24576', '0x6000', '24K', '24k']) expect(validateProfile({ ...example(), nvs: { size } }).nvs.size).toBe(0x6000);
    expect(validateProfile({ ...example(), firmware: { partitionTable: 'p.csv', tableOffset: '0x9000' } }).firmware.tableOffset).toBe(0x9000);
  });
});
