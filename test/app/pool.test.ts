// The app and the offline batch: an engineer imports a batch manifest into the active product's
// pool (every entry checked first) and switches the station to pool identities; the next units get
// the manifest's identities in order, and the choice is saved with the settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { parsePoolManifest } from '../../shared/station/manifest.ts';
import type { AppSnapshot, ProvisionReply, StationHandlers } from '../../shared/ipc.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { setupDataOnFlash } from '../station/helpers.ts';

let core: AppCore;
let handlers: StationHandlers;
let root: string;
let picked: string | null = null;

const platform: Platform = {
  pickFile: async () => null,
  pickManifestPath: async () => null,
  pickPoolManifest: async () => picked,
  listPrinters: async () => [],
  printLabel: async () => undefined,
  saveLabelPdf: async (_job, path) => writeFileSync(path, '%PDF-stand-in'),
};
const call = (method: string, ...args: unknown[]) => dispatch(handlers, method, args);
const snapshot = async () => ((await call('getSnapshot')) as { value: AppSnapshot }).value;
const PORT = 'virtual:esp32-1';

/** A batch run through the CLI; returns its manifest's path. */
async function batchManifest(name: string, cid: number, count: number): Promise<string> {
  const dir = join(root, name);
  const io = memoryIO(root);
  expect(await main(['batch', '--count', String(count), '--prefix', 'Plug', '--cid', String(cid), '--size', '0x6000', '--outdir', name, '--labels', 'none'], io), io.err).toBe(0);
  return join(dir, readdirSync(dir).find((f) => f.startsWith('homekit_manifest_'))!);
}

/** Provisions a unit on `port` (a fresh demo chip unless given: a new MAC, so a new unit). */
async function provision(port?: string): Promise<Extract<ProvisionReply, { kind: 'done' }>> {
  port ??= ((await call('demoAddChip', 'esp32')) as { value: string }).value;
  const r = (await call('provisionNext', port)) as { ok: boolean; value: ProvisionReply };
  expect(r.value.kind, JSON.stringify(r)).toBe('done');
  return r.value as Extract<ProvisionReply, { kind: 'done' }>;
}

beforeAll(async () => {
  useOpenSslModPow();
  root = mkdtempSync(join(tmpdir(), 'hkfs-app-pool-'));
  core = await AppCore.open({ dataDir: join(root, 'data'), demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform });
  handlers = createHandlers(core);
}, 180_000);
afterAll(async () => {
  await core.close();
  rmSync(root, { recursive: true, force: true });
});

describe('identity pool in the app', () => {
  let manifestPath: string;

  it('starts with an empty pool and fresh identities', async () => {
    const snap = await snapshot();
    expect(snap.pool).toEqual({ remaining: 0 });
    expect(snap.settings).toEqual({ autoProvision: false, usePool: false, whenPoolEmpty: 'stop' });
  });

  it('a cancelled dialog imports nothing', async () => {
    picked = null;
    expect(await call('importPool')).toEqual({ ok: true, value: null });
  });

  it('refuses a manifest for another category, naming the field; nothing is imported', async () => {
    picked = await batchManifest('fans', 5, 2);
    const r = await call('importPool');
    expect(r).toMatchObject({ ok: false, error: { code: 'manifest-invalid', message: expect.stringMatching(/^homekit_manifest_.*\.json: category: 5 does not match the profile's category 7$/) } });
    expect((await snapshot()).pool).toEqual({ remaining: 0 });
  });

  it('refuses a manifest with a damaged verifier, naming the entry', async () => {
    const good = await batchManifest('plugs-damaged', 7, 2);
    const doc = JSON.parse(readFileSync(good, 'utf8'));
    doc.units[1].verifier = doc.units[0].verifier;
    picked = join(root, 'damaged.json');
    writeFileSync(picked, JSON.stringify(doc));
    expect(await call('importPool')).toMatchObject({ ok: false, error: { code: 'manifest-invalid', message: expect.stringMatching(/^damaged\.json: units\[1\] \(setup ID [0-9A-Z]{4}\)\.verifier: does not match/) } });
    expect((await snapshot()).pool).toEqual({ remaining: 0 });
  });

  it('imports a good manifest; importing it twice is refused', async () => {
    manifestPath = await batchManifest('plugs', 7, 3);
    picked = manifestPath;
    const name = manifestPath.split('/').at(-1);
    const progress: unknown[] = [];
    const off = core.on((e) => {
      if (e.type === 'pool-import') progress.push(e);
    });
    expect(await call('importPool')).toEqual({ ok: true, value: { file: name, added: 3, skipped: [], remaining: 3 } });
    off();
    expect(progress).toEqual([{ type: 'pool-import', done: 3, total: 3 }]);
    expect((await snapshot()).pool).toEqual({ remaining: 3 });
    expect(await call('importPool')).toMatchObject({ ok: false, error: { code: 'manifest-invalid', message: expect.stringContaining('already issued for this product (imported before?): nothing imported') } });
    expect((await snapshot()).pool).toEqual({ remaining: 3 });
  });

  it('with usePool on, units get the manifest identities in order (the code pairs with the flash)', async () => {
    const manifest = parsePoolManifest(readFileSync(manifestPath, 'utf8'));
    expect(await call('setSettings', { usePool: true })).toEqual({ ok: true, value: { autoProvision: false, usePool: true, whenPoolEmpty: 'stop' } });
    for (const i of [0, 1]) {
      const done = await provision(i === 0 ? PORT : undefined);
      const expected = manifest.identities[i]!;
      expect(done.result.unit.setupId).toBe(expected.setupId);
      expect(done.result.setupCode.replace(/-/g, '')).toBe(expected.setupCode);
      const onFlash = setupDataOnFlash(core.bench.registry.get(done.result.port)!.flash);
      expect(onFlash.setupId).toBe(expected.setupId);
      expect(pairSetup(onFlash.salt!, onFlash.verifier!, formatSetupCode(expected.setupCode))).toEqual({ ok: true });
    }
    expect((await snapshot()).pool).toEqual({ remaining: 1 });
    expect(JSON.parse(readFileSync(join(root, 'data', 'settings.json'), 'utf8'))).toMatchObject({ usePool: true });
  });

  it('with usePool off again, the next unit gets a fresh identity and the pool keeps its last one', async () => {
    const manifest = parsePoolManifest(readFileSync(manifestPath, 'utf8'));
    await call('setSettings', { usePool: false });
    const done = await provision();
    expect(manifest.identities.map((m) => m.setupId)).not.toContain(done.result.unit.setupId);
    expect((await snapshot()).pool).toEqual({ remaining: 1 });
  });

  it('is refused while a unit is being provisioned, and checks its arguments', async () => {
    picked = manifestPath;
    const port = ((await call('demoAddChip', 'esp32')) as { value: string }).value;
    const running = call('provisionNext', port);
    expect(await call('importPool')).toMatchObject({ ok: false, error: { code: 'busy' } });
    await running;
    expect(await call('importPool', 'extra')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('setSettings', { usePool: 'yes' })).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('settings.usePool') } });
  });

  it('on a PIN-locked product only an engineer may import or switch the identity source', async () => {
    picked = manifestPath;
    expect(await call('setPin', 'demo-profile.json', '4321')).toEqual({ ok: true, value: null });
    await call('lock');
    expect(await call('importPool')).toMatchObject({ ok: false, error: { code: 'locked', message: expect.stringContaining('to import identities') } });
    expect(await call('setSettings', { usePool: true })).toMatchObject({ ok: false, error: { code: 'locked' } });
    // auto-provision is the engineer's too (issue 13); re-stating the current choice is no switch
    expect(await call('setSettings', { autoProvision: true })).toMatchObject({ ok: false, error: { code: 'locked', message: expect.stringContaining('auto-provision') } });
    expect(await call('setSettings', { autoProvision: false, usePool: false, whenPoolEmpty: 'stop' })).toEqual({ ok: true, value: { autoProvision: false, usePool: false, whenPoolEmpty: 'stop' } });
    expect(await call('unlock', '4321')).toEqual({ ok: true, value: true });
    expect(await call('setSettings', { autoProvision: true })).toEqual({ ok: true, value: { autoProvision: true, usePool: false, whenPoolEmpty: 'stop' } });
    expect(await call('setSettings', { usePool: true, autoProvision: false })).toEqual({ ok: true, value: { autoProvision: false, usePool: true, whenPoolEmpty: 'stop' } });
  });

  it('a larger manifest is checked a slice at a time, reporting progress after each', async () => {
    picked = await batchManifest('plugs-130', 7, 130);
    const before = (await snapshot()).pool!.remaining;
    const progress: number[] = [];
    const off = core.on((e) => {
      if (e.type === 'pool-import') progress.push(e.done);
    });
    expect(await call('importPool')).toMatchObject({ ok: true, value: { added: 130, remaining: before + 130 } });
    off();
    expect(progress).toEqual([64, 128, 130]);
  });

  it('a manifest partly issued already: the new identities are added, the others skipped and named by setup ID', async () => {
    // One identity from the manifest imported above (its code is issued) plus two new ones.
    const old = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const fresh = JSON.parse(readFileSync(await batchManifest('plugs-more', 7, 2), 'utf8'));
    const mixed = { ...fresh, units: [fresh.units[0], old.units[2], fresh.units[1]] };
    picked = join(root, 'mixed.json');
    writeFileSync(picked, JSON.stringify(mixed));
    const before = (await snapshot()).pool!.remaining;
    const r = (await call('importPool')) as { ok: boolean; value: { added: number; skipped: string[]; remaining: number } };
    expect(r.value).toMatchObject({ added: 2, skipped: [`units[1] (setup ID ${old.units[2].setupId})`], remaining: before + 2 });
    // the names in messages never carry the setup code (the default file names do)
    expect(JSON.stringify(r)).not.toContain(old.units[2].setupCode);
  });
});
