// Issue 13, item 2: setup IDs are unique per product just like setup codes — inside a manifest,
// against the pool and the database — and a manifest must say its category and hold identities.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openRegistry } from '../../src-main/registry/index.ts';
import { productDir, station } from './helpers.ts';

async function batchManifest(dir: string, out: string, count: number) {
  const r = await station(dir, ['batch', '--count', String(count), '--prefix', 'P', '--cid', '7', '--size', '0x6000', '--outdir', out, '--labels', 'none']);
  expect(r.code, r.err).toBe(0);
  const name = readdirSync(join(dir, out)).find((f) => f.startsWith('homekit_manifest_'))!;
  return JSON.parse(readFileSync(join(dir, out, name), 'utf8')) as { category?: number; units: { setupId: string; setupCode: string }[] };
}

describe('item 2: one issuing policy, setup IDs never repeat', () => {
  it('item 2: repeated setup IDs (in a manifest or against the pool), a missing category and an empty manifest are refused', async () => {
    const { dir, profile } = await productDir('item2');
    const a = await batchManifest(dir, 'a', 3);
    const b = await batchManifest(dir, 'b', 3);
    const importing = (m: unknown, name: string) => {
      writeFileSync(join(dir, name), JSON.stringify(m));
      return station(dir, ['pool', 'import', '--profile', profile, name]);
    };

    // the same setup ID twice in one manifest
    const twice = await importing({ ...a, units: [a.units[0], { ...a.units[1], setupId: a.units[0]!.setupId }] }, 'twice.json');
    expect(twice.code).toBe(1);
    expect(twice.err).toMatch(/units\[1\].*setupId: appears twice in the manifest/);
    // no category: the category check cannot be skipped
    const { category: _c, ...noCategory } = a;
    expect((await importing(noCategory, 'nocat.json')).err).toMatch(/category: missing/);
    // no identities at all
    const empty = await importing({ ...a, units: [] }, 'empty.json');
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/units: .*no identities/);

    // a second batch whose entry repeats an ID the pool already holds: that entry is skipped
    expect((await importing(a, 'a.json')).code).toBe(0);
    const clash = await importing({ ...b, units: [b.units[0], { ...b.units[1], setupId: a.units[2]!.setupId }, b.units[2]] }, 'clash.json');
    expect(clash.code, clash.err).toBe(0);
    expect(clash.err).toMatch(new RegExp(`skipped 1 .*setup ID ${a.units[2]!.setupId}`));
    const db = openRegistry(join(dir, 'station.db'));
    try {
      expect(await db.poolRemaining('demo-smart-plug')).toBe(5);
    } finally {
      await db.close();
    }
  });
});
