// The handler layer every IPC call goes through: argument validation, the error envelope, the PIN
// lock, and label delivery that leaves a unit "label pending" when the printer fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import type { StationHandlers } from '../../shared/ipc.ts';

let core: AppCore;
let handlers: StationHandlers;
let dataDir: string;
const printed: { printer: string; widthMm: number }[] = [];
let printerFails = false;

const platform: Platform = {
  pickFile: async (kind) => `/picked/${kind}`,
  pickManifestPath: async (name) => join(dataDir, name),
  pickPoolManifest: async () => null,
  listPrinters: async () => [{ name: 'Zebra_ZD421', displayName: 'Zebra ZD421', isDefault: false }],
  printLabel: async (job, printer) => {
    if (printerFails) throw new Error('out of labels');
    printed.push({ printer, widthMm: job.size.widthMm });
  },
  saveLabelPdf: async (_job, path) => writeFileSync(path, '%PDF-stand-in'),
};

const call = (method: string, ...args: unknown[]) => dispatch(handlers, method, args);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hkfs-handlers-'));
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform });
  handlers = createHandlers(core);
});
afterAll(() => core.close());

describe('IPC handlers', () => {
  it('first run creates the demo profile and a virtual ESP32 in demo mode', async () => {
    const r = await call('getSnapshot');
    expect(r.ok).toBe(true);
    const snap = (r as { value: Awaited<ReturnType<StationHandlers['getSnapshot']>> }).value;
    expect(snap.product?.productName).toBe('Demo Smart Plug');
    expect(snap.tiles).toHaveLength(1);
    expect(snap.tiles[0]).toMatchObject({ slot: 1, name: 'Slot 1', plugged: true, virtual: true, state: { phase: 'ready' } });
    expect(snap.tiles[0]!.path).toMatch(/^virtual:esp32-1$/);
    expect(JSON.parse(readFileSync(join(dataDir, 'profiles', 'demo-profile.json'), 'utf8')).id).toBe('demo-smart-plug');
  });

  it('refuses unknown methods, wrong argument counts and bad values with invalid-argument', async () => {
    expect(await call('constructor')).toEqual({ ok: false, error: { code: 'unknown-method', message: 'Unknown station method.' } });
    expect(await dispatch(handlers, 'getSnapshot', 'nope')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('provisionNext')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('provisionNext', '/dev/ttyUSB0', 'extra')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('provisionNext', 42)).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('provisionNext', '/etc/passwd\u0000')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    // A well-formed path that the app does not list is refused too.
    expect(await call('provisionNext', '/dev/ttyUSB9')).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('not a connected port') } });
    expect(await call('getProfile', '../settings.json')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('listUnits', { mac: 'zz' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('listUnits', { sql: '1=1' })).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('filter.sql') } });
    expect(await call('demoInjectFault', 'virtual:esp32-1', 'melt')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('pickFile', 'anything')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('pickFile', 'keysFile')).toEqual({ ok: true, value: '/picked/keysFile' });
  });

  it('a printer failure is reported and the unit stays label pending until printed', async () => {
    const file = 'demo-profile.json';
    const { value: editor } = (await call('getProfile', file)) as { value: Awaited<ReturnType<StationHandlers['getProfile']>> };
    const saved = await call('saveProfile', file, { ...editor.profile, printer: { mode: 'print', name: 'Zebra_ZD421' } });
    expect(saved).toMatchObject({ ok: true });
    printerFails = true;
    const r = await call('provisionNext', 'virtual:esp32-1');
    expect(r).toMatchObject({ ok: true, value: { kind: 'done', label: { status: 'failed', message: expect.stringContaining('out of labels') } } });
    const unitId = (r as { value: { result: { unit: { id: number } } } }).value.result.unit.id;
    expect((await core.history.listUnits({}))[0]).toMatchObject({ id: unitId, status: 'label-pending', labelPrintCount: 0 });
    printerFails = false;
    expect(await call('printLabel', unitId)).toEqual({ ok: true, value: { status: 'printed', unitId, printer: 'Zebra_ZD421' } });
    expect(printed).toEqual([{ printer: 'Zebra_ZD421', widthMm: 40 }]);
    expect((await core.history.listUnits({}))[0]).toMatchObject({ id: unitId, status: 'done', labelPrintCount: 1 });
    // A printer that is not installed is refused by name.
    await call('saveProfile', file, { ...editor.profile, printer: { mode: 'print', name: 'Gone_Printer' } });
    expect(await call('printLabel', unitId)).toMatchObject({ ok: false, error: { code: 'printer', message: expect.stringContaining('not installed') } });
  });

  it('the engineer PIN locks profile edits and product switching until unlocked', async () => {
    const file = 'demo-profile.json';
    expect(await call('setPin', file, '12ab')).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('setPin', file, '4321')).toEqual({ ok: true, value: null });
    await call('lock');
    const { value: editor } = (await call('getProfile', file)) as { value: Awaited<ReturnType<StationHandlers['getProfile']>> };
    expect(editor.locked).toBe(true);
    expect(editor.profile).not.toHaveProperty('lock');
    expect(await call('saveProfile', file, { ...editor.profile, productName: 'Changed' })).toMatchObject({ ok: false, error: { code: 'locked' } });
    expect(await call('unlock', '0000')).toMatchObject({ ok: false, error: { code: 'wrong-pin' } });
    expect(await call('unlock', '4321')).toEqual({ ok: true, value: true });
    expect(await call('saveProfile', file, { ...editor.profile, productName: 'Changed' })).toMatchObject({ ok: true });
    // The hash survives a save from the editor (which never sees it).
    expect(JSON.parse(readFileSync(join(dataDir, 'profiles', file), 'utf8')).lock.pinHash).toMatch(/^scrypt\$/);
    expect(await call('saveProfile', file, { ...editor.profile, lock: { pinHash: 'x' } })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(await call('setPin', file, null)).toEqual({ ok: true, value: null });
  });

  it('profile errors name the field', async () => {
    const { value: editor } = (await call('getProfile', 'demo-profile.json')) as { value: Awaited<ReturnType<StationHandlers['getProfile']>> };
    expect(await call('saveProfile', 'demo-profile.json', { ...editor.profile, category: 999 })).toMatchObject({
      ok: false, error: { code: 'profile-invalid', message: expect.stringContaining('category') },
    });
    expect(await call('previewLabel', { size: '40x30' }, 'Demo')).toMatchObject({ ok: true, value: { widthMm: 40, heightMm: 30 } });
    expect(await call('previewLabel', { size: { widthMm: 8, heightMm: 8 } }, 'Demo')).toMatchObject({ ok: false, error: { code: 'profile-invalid' } });
  });

  it('errors never carry the setup code', async () => {
    const units = await core.history.listUnits({});
    const label = await core.getLabel(units[0]!.id);
    const digits = label.setupCode.replaceAll('-', '');
    const r = await call('printLabel', 999999);
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(digits);
  });
});
