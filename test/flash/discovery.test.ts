// Port discovery: USB bridge recognition by VID:PID, busy ports, the attach/detach watcher.
import { afterEach, describe, expect, it } from 'vitest';
import { classifyUsbBridge, normalizeUsbId } from '../../src-main/flash/usb-ids.ts';
import { describePort, listPorts, PortWatcher, type PortDescription } from '../../src-main/flash/ports.ts';
import { VirtualChipRegistry, createVirtualBinding } from '../../src-main/virtual-chip/index.ts';
import { MockBinding } from './helpers.ts';

afterEach(() => MockBinding.reset());

describe('classifyUsbBridge', () => {
  // VID:PID facts from the vendors (Silicon Labs, WCH, FTDI, Prolific) and Espressif's USB-Serial/JTAG.
  it.each([
    ['303a', '1001', 'usb-serial-jtag', 'USB-Serial/JTAG'],
    ['10c4', 'ea60', 'uart-bridge', 'CP210x'],
    ['10c4', 'ea70', 'uart-bridge', 'CP210x'],
    ['1a86', '7523', 'uart-bridge', 'CH340'],
    ['1a86', '55d3', 'uart-bridge', 'CH343'],
    ['1a86', '55d4', 'uart-bridge', 'CH9102'],
    ['0403', '6001', 'uart-bridge', 'FTDI'],
    ['0403', '6010', 'uart-bridge', 'FTDI'],
    ['0403', '6014', 'uart-bridge', 'FTDI'],
    ['0403', '6015', 'uart-bridge', 'FTDI'],
    ['067b', '2303', 'uart-bridge', 'PL2303'],
  ])('%s:%s is a %s (%s)', (vid, pid, kind, family) => {
    expect(classifyUsbBridge(vid, pid)).toMatchObject({ kind, family });
  });

  it('accepts the spellings serialport produces on different systems', () => {
    expect(classifyUsbBridge('10C4', 'EA60')?.family).toBe('CP210x');
    expect(classifyUsbBridge('0x1a86', '0x7523')?.family).toBe('CH340');
    expect(classifyUsbBridge(0x303a, 0x1001)?.kind).toBe('usb-serial-jtag');
    expect(normalizeUsbId('403')).toBe('0403');
  });

  it('does not claim unknown or missing ids, but recognises any Espressif VID', () => {
    expect(classifyUsbBridge('2341', '0043')).toBeUndefined(); // Arduino Uno
    expect(classifyUsbBridge(undefined, undefined)).toBeUndefined();
    expect(classifyUsbBridge('zz', '1')).toBeUndefined();
    expect(classifyUsbBridge('303a', '80d1')?.family).toBe('Espressif');
  });
});

describe('listPorts', () => {
  it('lists ESP-capable ports first and says what each is', async () => {
    MockBinding.createPort('/dev/ttyS0');
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '10c4', productId: 'ea60', manufacturer: 'Silicon Labs' });
    MockBinding.createPort('/dev/ttyACM0', { vendorId: '303a', productId: '1001', manufacturer: 'Espressif' });
    const ports = await listPorts({ binding: MockBinding });
    expect(ports.map((p) => [p.path, p.espCapable])).toEqual([
      ['/dev/ttyACM0', true],
      ['/dev/ttyUSB0', true],
      ['/dev/ttyS0', false],
    ]);
    expect(ports[0].bridge?.description).toMatch(/USB-Serial\/JTAG/);
    expect(ports[1].bridge?.description).toMatch(/CP210/);
    expect((await listPorts({ binding: MockBinding, includeAll: false })).map((p) => p.path)).toEqual(['/dev/ttyACM0', '/dev/ttyUSB0']);
  });

  it('reports a port held by another program as busy instead of failing', async () => {
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '1a86', productId: '7523' });
    MockBinding.createPort('/dev/ttyUSB1', { vendorId: '1a86', productId: '55d4' });
    const holder = await MockBinding.open({ path: '/dev/ttyUSB0', baudRate: 115200 });
    const ports = await listPorts({ binding: MockBinding, probeBusy: true });
    expect(ports.find((p) => p.path === '/dev/ttyUSB0')).toMatchObject({ busy: true });
    expect(ports.find((p) => p.path === '/dev/ttyUSB1')).toMatchObject({ busy: false });
    await holder.close();
    expect((await listPorts({ binding: MockBinding, probeBusy: true })).every((p) => p.busy === false)).toBe(true);
  });

  it('sees virtual chips through their binding (CP210x for ESP32, USB-Serial/JTAG for S3/C3)', async () => {
    const registry = new VirtualChipRegistry();
    registry.create('virtual:esp32', { chip: 'esp32', pacing: false });
    registry.create('virtual:esp32c3', { chip: 'esp32c3', pacing: false });
    const ports = await listPorts({ binding: createVirtualBinding(registry) });
    expect(ports.map((p) => [p.path, p.bridge?.family])).toEqual([
      ['virtual:esp32', 'CP210x'],
      ['virtual:esp32c3', 'USB-Serial/JTAG'],
    ]);
  });

  it('describePort keeps only what is known', () => {
    const d = describePort({ path: 'COM3', manufacturer: undefined, serialNumber: undefined, pnpId: undefined, locationId: undefined, vendorId: undefined, productId: undefined });
    expect(d).toEqual({ path: 'COM3', espCapable: false });
  });
});

describe('PortWatcher', () => {
  function collect(w: PortWatcher) {
    const events: string[] = [];
    w.on('attach', (p: PortDescription) => events.push(`+${p.path}`));
    w.on('detach', (p: PortDescription) => events.push(`-${p.path}`));
    return events;
  }

  it('emits attach / detach for ports that appear and vanish (mock binding, polled)', async () => {
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '10c4', productId: 'ea60' });
    const w = new PortWatcher({ binding: MockBinding, intervalMs: 20 });
    const events = collect(w);
    const first = await w.start();
    expect(first.map((p) => p.path)).toEqual(['/dev/ttyUSB0']);
    MockBinding.createPort('/dev/ttyUSB1', { vendorId: '1a86', productId: '55d3' });
    await waitFor(() => events.length >= 1);
    expect(events).toEqual(['+/dev/ttyUSB1']);
    MockBinding.reset();
    await waitFor(() => events.length >= 3);
    w.stop();
    expect(events.slice(1).sort()).toEqual(['-/dev/ttyUSB0', '-/dev/ttyUSB1']);
  });

  it('tracks virtual chips being plugged and unplugged (poll on demand)', async () => {
    const registry = new VirtualChipRegistry();
    const w = new PortWatcher({ binding: createVirtualBinding(registry), intervalMs: 60_000, espOnly: true });
    const events = collect(w);
    expect(await w.start()).toEqual([]);
    const chip = registry.create('virtual:a', { chip: 'esp32s3', pacing: false });
    await w.poll();
    registry.remove('virtual:a');
    await w.poll();
    registry.add('virtual:a', chip);
    await w.poll();
    w.stop();
    expect(events).toEqual(['+virtual:a', '-virtual:a', '+virtual:a']);
  });

  it('keeps polling after a failing list() and reports it as an error event', async () => {
    let calls = 0;
    const flaky = {
      async list() {
        calls++;
        if (calls === 2) throw new Error('usb subsystem hiccup');
        return calls >= 3 ? [{ path: '/dev/ttyUSB9', vendorId: '0403', productId: '6015' }] : [];
      },
    };
    const w = new PortWatcher({ binding: flaky as never, intervalMs: 10 });
    const errors: string[] = [];
    w.on('error', (e: Error) => errors.push(e.message));
    const events = collect(w);
    await w.start();
    await waitFor(() => events.length >= 1);
    w.stop();
    expect(errors).toEqual(['usb subsystem hiccup']);
    expect(events).toEqual(['+/dev/ttyUSB9']);
  });
});

// The bound only limits a failure; on a loaded machine polling can fall well behind.
async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
