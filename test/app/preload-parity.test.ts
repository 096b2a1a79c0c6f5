// The real preload (built out/preload/preload.cjs, evaluated with a fake `electron` module) and the
// UI-test stand-in must expose exactly the same window.station members, wired to the same channels.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import vm from 'node:vm';
import { EVENT_CHANNEL } from '../../shared/ipc.ts';
import { harnessBridgeKeys } from '../ui/harness.ts';

interface FakeElectron {
  exposed: Record<string, Record<string, (...a: unknown[]) => unknown>>;
  invoked: { channel: string; args: unknown[] }[];
  listeners: Map<string, ((...a: unknown[]) => void)[]>;
}

function loadPreload(): FakeElectron {
  const fake: FakeElectron = { exposed: {}, invoked: [], listeners: new Map() };
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...a: unknown[]) => unknown>) => (fake.exposed[key] = api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => (fake.invoked.push({ channel, args }), { ok: true, value: null }),
      on: (channel: string, l: (...a: unknown[]) => void) => fake.listeners.set(channel, [...(fake.listeners.get(channel) ?? []), l]),
      removeListener: (channel: string, l: (...a: unknown[]) => void) => fake.listeners.set(channel, (fake.listeners.get(channel) ?? []).filter((x) => x !== l)),
    },
  };
  const required: string[] = [];
  const code = readFileSync('out/preload/preload.cjs', 'utf8');
  const module = { exports: {} };
  const sandbox = {
    module,
    exports: module.exports,
    require: (name: string) => {
      required.push(name);
      if (name !== 'electron') throw new Error(`preload must not require ${name}`);
      return electron;
    },
  };
  vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
  expect(required).toEqual(['electron']);
  return fake;
}

describe('preload ↔ UI-test bridge parity', () => {
  beforeAll(() => {
    if (!existsSync('out/preload/preload.cjs')) spawnSync('npx', ['electron-vite', 'build'], { stdio: 'ignore' });
  });

  it('exposes one frozen window.station with the same members as the harness', () => {
    const fake = loadPreload();
    expect(Object.keys(fake.exposed)).toEqual(['station']);
    const api = fake.exposed.station!;
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.keys(api).sort()).toEqual(harnessBridgeKeys().sort());
    for (const k of Object.keys(api)) expect(typeof api[k]).toBe('function');
  });

  it('invokes station:<method> with the arguments as given', async () => {
    const fake = loadPreload();
    const api = fake.exposed.station!;
    await api.provisionNext!('virtual:esp32-1');
    await api.listUnits!({ mac: '24:0a' });
    expect(fake.invoked).toEqual([
      { channel: 'station:provisionNext', args: ['virtual:esp32-1'] },
      { channel: 'station:listUnits', args: [{ mac: '24:0a' }] },
    ]);
  });

  it('hands callbacks the event payload only, never the IpcRendererEvent, and unsubscribes', () => {
    const fake = loadPreload();
    const seen: unknown[][] = [];
    const off = fake.exposed.station!.onEvent!((...a: unknown[]) => seen.push(a)) as () => void;
    const [listener] = fake.listeners.get(EVENT_CHANNEL)!;
    listener!({ sender: 'secret ipcRenderer event' }, { type: 'counters', counters: { units: 1 } });
    expect(seen).toEqual([[{ type: 'counters', counters: { units: 1 } }]]);
    off();
    expect(fake.listeners.get(EVENT_CHANNEL)).toEqual([]);
  });
});
