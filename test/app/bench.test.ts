// The app's bench without a browser: slots stable per physical USB port (also when the device path
// changes), renamed and renumbered by the engineer; the shift counters across product switches and
// their reset; reprints that keep the unit's own product; scanned labels in the history search;
// the new IPC methods' argument checks.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import type { LabelJob } from '../../src-main/app/label-page.ts';

const open: AppCore[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function platform(jobs: LabelJob[] = []): Platform {
  return {
    pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null,
    listPrinters: async () => [], printLabel: async () => undefined,
    saveLabelPdf: async (job) => void jobs.push(job),
  };
}

async function demoCore(dataDir = mkdtempSync(join(tmpdir(), 'hkfs-appbench-')), jobs: LabelJob[] = []): Promise<AppCore> {
  const core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform: platform(jobs), stationName: 'bench-a' });
  open.push(core);
  return core;
}

describe('slots', () => {
  it('a port keeps its slot when it comes back under another device path on the same USB hub port', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hkfs-slots-'));
    let ports = [{ path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: 'A1' }, { path: '/dev/ttyUSB1', vendorId: '1a86', productId: '55d3', serialNumber: 'B2' }];
    let where = new Map([['/dev/ttyUSB0', 'usb-0:1.1:1.0'], ['/dev/ttyUSB1', 'usb-0:1.2:1.0']]);
    const options = { dataDir, platform: platform(), portBinding: { list: async () => ports.map((p) => ({ ...p })) }, portLocations: () => where, watchPorts: true, pollMs: 3_600_000 };
    const core = await AppCore.open(options as never);
    open.push(core);
    expect(core.snapshot().tiles.map((t) => [t.slot, t.path])).toEqual([[1, '/dev/ttyUSB0'], [2, '/dev/ttyUSB1']]);
    // Both unplugged, then the second board comes back first and the OS hands it ttyUSB0.
    ports = [];
    await core.bench.poll();
    expect(core.snapshot().tiles.map((t) => t.plugged)).toEqual([false, false]);
    ports = [{ path: '/dev/ttyUSB0', vendorId: '1a86', productId: '55d3', serialNumber: 'B2' }];
    where = new Map([['/dev/ttyUSB0', 'usb-0:1.2:1.0']]);
    await core.bench.poll();
    expect(core.snapshot().tiles.map((t) => [t.slot, t.path, t.plugged, t.state.phase])).toEqual([[1, '/dev/ttyUSB0', false, 'empty'], [2, '/dev/ttyUSB0', true, 'ready']]);
    // …and the numbering is kept on disk for the next start.
    await core.close();
    open.pop();
    const again = await AppCore.open(options as never);
    open.push(again);
    expect(again.snapshot().slots.map((s) => [s.slot, s.key])).toEqual([[1, 'usb:usb-0:1.1:1.0'], [2, 'usb:usb-0:1.2:1.0']]);
    expect(JSON.parse(readFileSync(join(dataDir, 'slots.json'), 'utf8'))).toHaveLength(2);
  });

  it('the engineer renames and renumbers slots; clashes and unknown keys are refused; a plugged slot cannot be forgotten', async () => {
    const core = await demoCore();
    core.addDemoChip('esp32s3');
    const call = (m: string, ...a: unknown[]) => dispatch(createHandlers(core), m, a);
    const [a, b] = core.snapshot().slots;
    expect(await call('saveSlots', [{ key: a!.key, slot: 2, name: 'Left jig' }, { key: b!.key, slot: 1, name: '' }])).toMatchObject({ ok: true });
    expect(core.snapshot().tiles.map((t) => [t.slot, t.name])).toEqual([[1, 'Slot 1'], [2, 'Left jig']]);
    expect(await call('saveSlots', [{ key: a!.key, slot: 1, name: null }])).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('already taken') } });
    expect(await call('saveSlots', [{ key: a!.key, slot: 3, name: null }, { key: b!.key, slot: 3, name: null }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('used twice') } });
    expect(await call('saveSlots', [{ key: 'path:/dev/nothing', slot: 4, name: null }])).toMatchObject({ ok: false, error: { message: expect.stringContaining('Unknown slot') } });
    expect(await call('saveSlots', [{ key: a!.key, slot: 100, name: null }])).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('saveSlots', 'all')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('forgetSlot', a!.key)).toMatchObject({ ok: false, error: { code: 'busy' } });
    expect(await call('forgetSlot', '../../etc')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    core.demoUnplug(core.snapshot().tiles[0]!.path);
    expect(await call('forgetSlot', b!.key)).toMatchObject({ ok: true });
    expect(core.snapshot().tiles.map((t) => t.slot)).toEqual([2]);
  });
});

describe('shift counters and history', () => {
  it('survive a product switch and a restart; an engineer resets them (not while the product is locked)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hkfs-shift-'));
    const core = await demoCore(dataDir);
    const editor = await core.getProfile('demo-profile.json');
    await core.saveProfile('lamp.json', { ...editor.profile, id: 'lamp', productName: 'Lamp' });
    const port = core.snapshot().tiles[0]!.path;
    expect((await core.provisionNext(port)).kind).toBe('done');
    expect(core.snapshot().counters).toMatchObject({ units: 1, failures: 0 });
    await core.activateProfile('lamp.json');
    expect(core.snapshot().counters).toMatchObject({ units: 1 });
    expect(core.snapshot().tiles[0]!.state.phase).toBe('done'); // the board keeps its state
    await core.activateProfile('demo-profile.json');
    await core.close();
    open.pop();
    const again = await demoCore(dataDir);
    expect(again.snapshot().counters).toMatchObject({ units: 1 });
    await again.setPin('demo-profile.json', '2468');
    again.lock();
    await expect(again.resetShift()).rejects.toMatchObject({ code: 'locked' });
    await again.unlock('2468');
    expect(await again.resetShift()).toMatchObject({ units: 0, failures: 0 });
  });

  it('a reprint after a product switch still prints the unit\'s own product', async () => {
    const jobs: LabelJob[] = [];
    const core = await demoCore(undefined, jobs);
    const editor = await core.getProfile('demo-profile.json');
    await core.saveProfile('lamp.json', { ...editor.profile, id: 'lamp', productName: 'Garden Lamp', label: { size: '50x25', showProductName: true } });
    const reply = await core.provisionNext(core.snapshot().tiles[0]!.path);
    if (reply.kind !== 'done') throw new Error('provision failed');
    await core.activateProfile('lamp.json');
    await core.printLabel(reply.result.unit.id);
    const reprint = jobs.at(-1)!;
    expect(reprint.svg).toContain('Demo Smart Plug');
    expect(reprint.svg).not.toContain('Garden Lamp');
    expect(reprint.size).toEqual({ widthMm: 40, heightMm: 30 }); // its own label size too
  });

  it('finds a unit by its scanned label; refuses text that is not a label', async () => {
    const core = await demoCore();
    const reply = await core.provisionNext(core.snapshot().tiles[0]!.path);
    if (reply.kind !== 'done') throw new Error('provision failed');
    const call = (m: string, ...a: unknown[]) => dispatch(createHandlers(core), m, a);
    const found = await call('listUnits', { payload: reply.result.payload.toLowerCase() });
    expect(found).toMatchObject({ ok: true, value: [{ id: reply.result.unit.id }] });
    expect(JSON.stringify(found)).not.toContain(reply.result.payload);
    expect(await call('listUnits', { payload: 'X-HM://nope' })).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('filter.payload') } });
    expect(await call('listAttempts', { outcome: 'ok', kind: 'provision' })).toMatchObject({ ok: true, value: [{ unitId: reply.result.unit.id, kind: 'provision', slot: 1 }] });
    expect(await call('listAttempts', { outcome: 'maybe' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('scanLabel', core.snapshot().tiles[0]!.path, 42)).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('scanLabel', '/dev/ttyUSB9', 'X-HM://0')).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('not a connected port') } });
  });
});
