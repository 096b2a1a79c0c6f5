// The unit image the station flashes is byte-identical to Espressif's factory_nvs_gen.py output for
// the same identity (vectors in test/fixtures/homekit/factory: plain 0x6000, custom --infile rows,
// and --encrypt with a fixed keys file).
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { computeVerifier } from '../../shared/homekit/srp.ts';
import { createDemoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { buildUnitNvsImage, buildUnitPlan, loadProductAssets } from '../../src-main/station/image.ts';

const FACTORY = join(import.meta.dirname, '../fixtures/homekit/factory');

interface Case {
  dir: string;
  bin: string;
  size: number;
  custom?: string;
  keys?: string;
}

const CASES: Case[] = [
  { dir: '06-size-0x6000', bin: 'acc.bin', size: 0x6000 },
  { dir: '07-infile-readme', bin: 'fan_factory.bin', size: 0x4000, custom: 'app_data.csv' },
  { dir: '10-encrypt-keyfile', bin: 'enc.bin', size: 0x4000, keys: 'nvs_keys.bin' },
];

async function profileFor(c: Case) {
  const dir = mkdtempSync(join(tmpdir(), 'hkfs-image-'));
  const json = JSON.parse(readFileSync(await createDemoProfile(dir), 'utf8'));
  json.nvs = { size: c.size, version: 2, layout: 'homekit' };
  for (const f of [c.custom, c.keys]) if (f) copyFileSync(join(FACTORY, c.dir, f), join(dir, f));
  if (c.custom) json.customData = { csv: c.custom };
  if (c.keys) json.encryption = { keysFile: c.keys };
  writeFileSync(join(dir, 'p.json'), JSON.stringify(json));
  return loadProfile(join(dir, 'p.json'));
}

describe('unit image', () => {
  for (const c of CASES) {
    it(`${c.dir}: same bytes as factory_nvs_gen.py`, async () => {
      const meta = JSON.parse(readFileSync(join(FACTORY, c.dir, 'case.json'), 'utf8')) as { setup_code: string; setup_id: string; salt_hex: string };
      const salt = new Uint8Array(Buffer.from(meta.salt_hex, 'hex'));
      const loaded = await profileFor(c);
      const assets = await loadProductAssets(loaded);
      const { image, sha256 } = buildUnitNvsImage(loaded, assets, { setupId: meta.setup_id, salt, verifier: computeVerifier(meta.setup_code, salt) });
      const expected = readFileSync(join(FACTORY, c.dir, c.bin));
      expect(Buffer.from(image).equals(expected)).toBe(true);
      expect(sha256).toBe(createHash('sha256').update(expected).digest('hex'));

      // and it lands in the factory_nvs partition of the plan, after the partition table
      if (c.size === 0x6000) {
        const plan = await buildUnitPlan(loaded, assets, image);
        const nvs = plan.regions.find((r) => r.offset === 0x340000);
        expect(nvs && Buffer.from(nvs.data).equals(expected)).toBe(true);
        expect(plan.regions.some((r) => r.offset === 0x8000)).toBe(true);
      }
    });
  }
});
