// Port discovery: USB bridge recognition by VID:PID, busy ports, the attach/detach watcher.
import { afterEach, describe, expect, it } from 'vitest';
import { classifyUsbBridge, normalizeUsbId } from '../../src-main/flash/usb-ids.ts';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePort, linuxSysfsPorts, linuxUsbLocations, listPorts, PortWatcher, type PortDescription } from '../../src-main/flash/ports.ts';
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

  it('updates its port list before it emits: a listener reading it sees the new board and not the one that left', async () => {
    const infos: { path: string; vendorId: string; productId: string; serialNumber?: string }[] = [{ path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60' }];
    const listing = { list: async () => infos.map((i) => ({ ...i })) };
    const w = new PortWatcher({ binding: listing as never, intervalMs: 60_000, locations: () => new Map() });
    const seenInEvent: string[] = [];
    w.on('attach', (p: PortDescription) => seenInEvent.push(`+${p.path}: ${w.ports.map((q) => q.path).join(',')}`));
    w.on('detach', (p: PortDescription) => seenInEvent.push(`-${p.path}: ${w.ports.map((q) => q.path).join(',')}`));
    await w.start();
    infos.push({ path: '/dev/ttyUSB1', vendorId: '1a86', productId: '55d3' }); // plug
    await w.poll();
    infos.shift(); // unplug USB0
    await w.poll();
    infos[0] = { ...infos[0]!, serialNumber: 'SWAPPED' }; // another board on the same path
    await w.poll();
    w.stop();
    expect(seenInEvent).toEqual([
      '+/dev/ttyUSB1: /dev/ttyUSB0,/dev/ttyUSB1',
      '-/dev/ttyUSB0: /dev/ttyUSB1',
      '-/dev/ttyUSB1: /dev/ttyUSB1',
      '+/dev/ttyUSB1: /dev/ttyUSB1',
    ]);
    expect(w.ports[0]!.serialNumber).toBe('SWAPPED');
  });

  it('gives each port its physical USB location: locationId, else the by-path name', async () => {
    const listing = {
      list: async () => [
        { path: 'COM7', vendorId: '10c4', productId: 'ea60', locationId: 'Port_#0003.Hub_#0002' },
        { path: '/dev/ttyUSB3', vendorId: '10c4', productId: 'ea60' },
        { path: '/dev/ttyUSB4', vendorId: '10c4', productId: 'ea60' },
      ],
    };
    const ports = await listPorts({ binding: listing as never, locations: () => new Map([['/dev/ttyUSB3', 'pci-0000:00:14.0-usb-0:2.3:1.0-port0']]) });
    expect(Object.fromEntries(ports.map((p) => [p.path, p.location]))).toEqual({
      COM7: 'Port_#0003.Hub_#0002',
      '/dev/ttyUSB3': 'pci-0000:00:14.0-usb-0:2.3:1.0-port0',
      '/dev/ttyUSB4': undefined,
    });
  });

  it('lists USB serial devices from sysfs when udevadm is missing (vendor, product, serial from the USB device)', () => {
    const root = mkdtempSync(join(tmpdir(), 'hkfs-sysfs-'));
    const usb = join(root, 'devices/pci0000:00/usb1/1-2');
    mkdirSync(join(usb, '1-2:1.0/ttyUSB0'), { recursive: true });
    writeFileSync(join(usb, 'idVendor'), '10c4\n');
    writeFileSync(join(usb, 'idProduct'), 'ea60\n');
    writeFileSync(join(usb, 'serial'), '0001\n');
    writeFileSync(join(usb, 'manufacturer'), 'Silicon Labs\n');
    mkdirSync(join(root, 'class/tty/ttyUSB0'), { recursive: true });
    symlinkSync(join(usb, '1-2:1.0/ttyUSB0'), join(root, 'class/tty/ttyUSB0/device'));
    mkdirSync(join(root, 'class/tty/ttyS0'));
    expect(linuxSysfsPorts(join(root, 'class/tty'))).toEqual([
      { path: '/dev/ttyUSB0', manufacturer: 'Silicon Labs', serialNumber: '0001', pnpId: undefined, locationId: undefined, vendorId: '10c4', productId: 'ea60' },
    ]);
    expect(describePort(linuxSysfsPorts(join(root, 'class/tty'))[0]!).bridge?.family).toBe('CP210x');
    expect(linuxSysfsPorts(join(root, 'nothing'))).toEqual([]);
  });

  it('reads Linux by-path links (device path → physical name)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-bypath-'));
    const dev = join(dir, 'ttyUSB9');
    writeFileSync(dev, '');
    mkdirSync(join(dir, 'by-path'));
    symlinkSync(dev, join(dir, 'by-path', 'pci-0000:00:14.0-usb-0:1.4:1.0-port0'));
    symlinkSync(join(dir, 'gone'), join(dir, 'by-path', 'dangling'));
    expect(linuxUsbLocations(join(dir, 'by-path'))).toEqual(new Map([[realpathSync(dev), 'pci-0000:00:14.0-usb-0:1.4:1.0-port0']]));
    expect(linuxUsbLocations(join(dir, 'missing'))).toEqual(new Map());
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
