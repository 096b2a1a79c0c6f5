// Offline batch → identity pool → station: the batch manifest is imported (every verifier
// recomputed) and provisioning hands those identities out in order.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../../src-main/cli/io.ts';
import { run as batch } from '../../src-main/cli/commands/batch.ts';
import { run as pool } from '../../src-main/cli/commands/pool.ts';
import { run as provision } from '../../src-main/cli/commands/provision.ts';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { openIdentityRegistry } from '../../src-main/batch/manifest.ts';
import { parsePoolManifest } from '../../shared/station/manifest.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { setupDataOnFlash } from './helpers.ts';

describe('identity pool from an offline batch', () => {
  it('batch manifest → pool import → provision --pool uses those identities in order', async () => {
    useOpenSslModPow();
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-pool-'));
    await createDemoProfile(dir);
    const b = memoryIO(dir);
    expect(await batch(['--count', '3', '--prefix', 'Plug', '--cid', '7', '--size', '0x6000', '--outdir', 'out', '--labels', 'none'], b), b.err).toBe(0);
    const manifestName = readdirSync(join(dir, 'out')).find((f) => f.startsWith('homekit_manifest_'))!;
    const manifest = parsePoolManifest(readFileSync(join(dir, 'out', manifestName), 'utf8'));
    expect(manifest.identities).toHaveLength(3);

    // a corrupted verifier is refused, and nothing is imported
    const broken = JSON.parse(readFileSync(join(dir, 'out', manifestName), 'utf8'));
    broken.units[1].verifier = broken.units[0].verifier;
    writeFileSync(join(dir, 'broken.json'), JSON.stringify(broken));
    const bad = memoryIO(dir);
    expect(await pool(['import', '--profile', 'demo-profile.json', 'broken.json'], bad).catch(() => 1)).not.toBe(0);

    // a manifest for another category is refused before any verifier is recomputed (this one
    // also has a broken verifier: the category is what gets reported)
    broken.category = 5;
    writeFileSync(join(dir, 'other-category.json'), JSON.stringify(broken));
    await expect(pool(['import', '--profile', 'demo-profile.json', 'other-category.json'], memoryIO(dir))).rejects.toThrow(
      /other-category\.json: category: 5 does not match the profile's category 7/,
    );

    const imp = memoryIO(dir);
    imp.isTTY = true; // the progress bar shows, then is cleared before the summary
    expect(await pool(['import', '--profile', 'demo-profile.json', join('out', manifestName)], imp)).toBe(0);
    expect(imp.out).toMatch(/\r\[#{30}\] 3\/3 identities checked {2}\d+\/s \r\x1b\[2Kimported 3 identities/);
    // the same manifest again adds nothing and says so
    await expect(pool(['import', '--profile', 'demo-profile.json', join('out', manifestName)], memoryIO(dir))).rejects.toThrow(
      /already issued for this product \(imported before\?\): nothing imported/,
    );

    for (let i = 0; i < 2; i++) {
      writeFileSync(join(dir, `u${i}.json`), JSON.stringify({ chip: 'esp32', mac: `24:0a:c4:00:00:0${i}` }));
      const p = memoryIO(dir);
      expect(await provision(['--profile', 'demo-profile.json', '--port', 'virtual:esp32', '--pool', '--virtual-state', `u${i}.json`, '--json'], p), p.out + p.err).toBe(0);
      const flash = new Uint8Array(readFileSync(join(dir, `u${i}.json.flash`)));
      const onDevice = setupDataOnFlash(flash);
      expect(onDevice.setupId).toBe(manifest.identities[i]!.setupId);
      expect(pairSetup(onDevice.salt!, onDevice.verifier!, formatSetupCode(manifest.identities[i]!.setupCode))).toEqual({ ok: true });
    }
    const db = openRegistry(join(dir, 'station.db'));
    expect(await db.poolRemaining('demo-smart-plug')).toBe(1);
    await db.close();

    // the batch's --db check sees what production has issued
    const registry = await openIdentityRegistry(join(dir, 'station.db'), dir);
    expect(registry.isTaken('setupCode', manifest.identities[0]!.setupCode)).toBe(true);
    expect(registry.isTaken('setupId', manifest.identities[0]!.setupId)).toBe(true);
    expect(registry.isTaken('setupCode', '13572468')).toBe(false);
    registry.close();

    // a manifest partly issued already: the new identities go in, the others are listed on stderr
    // by setup ID (never by file name: with the default file id that is the setup code)
    const b2 = memoryIO(dir);
    expect(await batch(['--count', '2', '--prefix', 'Plug', '--cid', '7', '--size', '0x6000', '--outdir', 'out2', '--labels', 'none'], b2), b2.err).toBe(0);
    const second = JSON.parse(readFileSync(join(dir, 'out2', readdirSync(join(dir, 'out2')).find((f) => f.startsWith('homekit_manifest_'))!), 'utf8'));
    const first = JSON.parse(readFileSync(join(dir, 'out', manifestName), 'utf8'));
    writeFileSync(join(dir, 'mixed.json'), JSON.stringify({ ...second, units: [second.units[0], first.units[0], second.units[1]] }));
    const mixed = memoryIO(dir);
    expect(await pool(['import', '--profile', 'demo-profile.json', 'mixed.json'], mixed)).toBe(0);
    expect(mixed.out).toBe('imported 2 identities; 3 in the pool of demo-smart-plug\n');
    expect(mixed.err).toBe(`${join(dir, 'mixed.json')}: skipped 1 whose setup code or setup ID was already issued for this product (never put in the pool): units[1] (setup ID ${first.units[0].setupId})\n`);
    expect(mixed.err).not.toContain(first.units[0].setupCode);
  }, 240_000);
});
