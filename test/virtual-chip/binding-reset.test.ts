// The serialport binding and the reset circuit: what SerialPort sees, and how DTR/RTS sequences
// (esptool-js classic and USB-JTAG resets, a plain EN pulse) decide the boot mode.
import { afterEach, describe, expect, test } from 'vitest';
import { SerialPortStream } from '@serialport/stream';
import { ClassicReset, UsbJtagSerialReset } from 'esptool-js';
import { NodeSerialDevice } from '../../src-main/flash/transport.ts';
import { createVirtualBinding, VirtualChip, VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { until } from './helpers/wait.ts';

const ports: SerialPortStream[] = [];
afterEach(async () => {
  for (const p of ports.splice(0)) if (p.isOpen) await new Promise((r) => p.close(r));
});

async function open(registry: VirtualChipRegistry, path: string, baudRate = 115200): Promise<{ port: SerialPortStream; text: () => string }> {
  const port = new SerialPortStream({ binding: createVirtualBinding(registry), path, baudRate, autoOpen: false });
  ports.push(port);
  let got = '';
  port.on('data', (d: Buffer) => (got += d.toString('latin1')));
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  return { port, text: () => got };
}

const setLines = (port: SerialPortStream, dtr: boolean, rts: boolean) =>
  new Promise<void>((res, rej) => port.set({ dtr, rts }, (e) => (e ? rej(e) : res())));
/** esptool-js's Transport only needs setSignals/setDTR/setRTS for the reset classes. */
function transportFor(port: SerialPortStream) {
  const device = new NodeSerialDevice(port);
  let dtrState = false;
  return {
    async setSignals(dtr: boolean, rts: boolean) { if (dtr) dtrState = dtr; await device.setSignals({ dataTerminalReady: dtr, requestToSend: rts }); },
    async setDTR(state: boolean) { dtrState = state; await device.setSignals({ dataTerminalReady: state }); },
    async setRTS(state: boolean) { await device.setSignals({ requestToSend: state }); await this.setDTR(dtrState); },
  };
}

describe('binding', () => {
  test('list() reports each plugged chip with a plausible USB identity', async () => {
    const registry = new VirtualChipRegistry();
    registry.create('virtual:a', { chip: 'esp32', pacing: false });
    registry.create('virtual:b', { chip: 'esp32s3', pacing: false });
    registry.create('virtual:c', { chip: 'esp32c3', pacing: false, circuit: 'uart-bridge' });
    const list = await createVirtualBinding(registry).list();
    expect(list.map((p) => [p.path, p.vendorId, p.productId])).toEqual([
      ['virtual:a', '10c4', 'ea60'],
      ['virtual:b', '303a', '1001'],
      ['virtual:c', '10c4', 'ea60'],
    ]);
    expect(list.every((p) => typeof p.serialNumber === 'string' && p.manufacturer)).toBe(true);
    registry.remove('virtual:b');
    expect((await createVirtualBinding(registry).list()).map((p) => p.path)).toEqual(['virtual:a', 'virtual:c']);
  });

  test('opening a missing path fails; a second open of the same chip is refused; chips are independent', async () => {
    const registry = new VirtualChipRegistry();
    const a = registry.create('virtual:a', { chip: 'esp32', pacing: false });
    const b = registry.create('virtual:b', { chip: 'esp32c3', pacing: false });
    await expect(open(registry, 'virtual:nope')).rejects.toThrow(/No such file/);
    const first = await open(registry, 'virtual:a');
    await expect(open(registry, 'virtual:a')).rejects.toThrow(/locked/);
    expect(a.connected).toBe(true);
    expect(b.connected).toBe(false);
    await new Promise((r) => first.port.close(r));
    expect(a.connected).toBe(false);
  });

  test('get/getBaudRate/update/flush/drain behave; open raises both lines, close drops them', async () => {
    const registry = new VirtualChipRegistry();
    const chip = registry.create('virtual:a', { chip: 'esp32', pacing: true, startInDownloadMode: true });
    const { port } = await open(registry, 'virtual:a');
    expect(chip.signals).toEqual({ dtr: true, rts: true });
    expect(chip.mode).toBe('download'); // "both on" is not a reset
    const status = await new Promise((res, rej) => port.get((e, s) => (e ? rej(e) : res(s))));
    expect(status).toEqual({ cts: false, dsr: false, dcd: false });
    await new Promise<void>((res, rej) => port.update({ baudRate: 460800 }, (e) => (e ? rej(e) : res())));
    expect(chip.hostBaud).toBe(460800);
    const binding = (port as unknown as { port: { getBaudRate(): Promise<{ baudRate: number }> } }).port;
    expect(await binding.getBaudRate()).toEqual({ baudRate: 460800 });
    port.write(Buffer.alloc(4600, 0x55));
    await new Promise<void>((res, rej) => port.drain((e) => (e ? rej(e) : res())));
    // At 460800 baud, 4600 bytes take ~100 ms; drain resolved only after they reached the chip.
    expect(chip.bytesFromHost).toBe(4600);
    await new Promise<void>((res, rej) => port.flush((e) => (e ? rej(e) : res())));
    await new Promise((r) => port.close(r));
    expect(chip.signals).toEqual({ dtr: false, rts: false });
  });
});

describe('reset lines', () => {
  test('esptool-js classic reset enters download mode and the banner says so', async () => {
    const registry = new VirtualChipRegistry();
    const chip = registry.create('virtual:a', { chip: 'esp32', pacing: true });
    const { port, text } = await open(registry, 'virtual:a');
    expect(chip.mode).toBe('firmware'); // powered up from flash
    await new ClassicReset(transportFor(port) as never, 50).reset();
    await until(() => /waiting for download/.test(text()), 'the download banner');
    expect(chip.mode).toBe('download');
    expect(text()).toMatch(/boot:0x3 \(DOWNLOAD_BOOT\(UART0\/UART1\/SDIO_REI_REO_V2\)\)\r\nwaiting for download/);
  });

  test('esptool-js USB-JTAG reset enters download mode via the latch (S3, C3)', async () => {
    for (const kind of ['esp32s3', 'esp32c3'] as const) {
      const registry = new VirtualChipRegistry();
      const chip = registry.create('virtual:a', { chip: kind, pacing: true });
      const { port, text } = await open(registry, 'virtual:a');
      await new UsbJtagSerialReset(transportFor(port) as never).reset();
      await until(() => /waiting for download/.test(text()), `the ${kind} download banner`);
      expect(chip.mode).toBe('download');
      expect(text()).toMatch(/boot:0x[07] \(DOWNLOAD\(USB\/UART0(\/1)?\)\)\r\nwaiting for download/);
    }
  });

  test('a plain EN pulse (RTS only) boots the firmware: ROM banner, then the image or "invalid header"', async () => {
    const registry = new VirtualChipRegistry();
    const chip = registry.create('virtual:a', { chip: 'esp32', pacing: true, startInDownloadMode: true });
    const { port, text } = await open(registry, 'virtual:a');
    await setLines(port, false, true);
    expect(chip.mode).toBe('reset'); // EN low resets at once
    await setLines(port, false, false);
    await until(() => /invalid header: 0xffffffff\r\n/.test(text()), 'the ROM complaining about blank flash');
    expect(chip.mode).toBe('firmware');
    expect(text()).toContain('rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)');

    chip.flash.set([0xe9, 0x03, 0x02, 0x20], 0x1000); // an image header at the ESP32 bootloader offset
    const boots = chip.bootCount;
    await setLines(port, false, true);
    await setLines(port, false, false);
    // A bootloader but no partition table: the bootloader finds no app to start.
    await until(() => text().includes('No bootable app partitions'), 'the bootloader log');
    expect(chip.bootCount).toBe(boots + 1);
    expect(text()).toContain('2nd stage bootloader');
    // In firmware mode SLIP is ignored: a READ_REG sent now is never handled (the chip's own
    // counter is checked after the bytes have reached it, which drain() guarantees).
    const before = chip.bytesFromHost;
    const handled = chip.commandCounts.size;
    port.write(Buffer.from([0xc0, 0, 0x0a, 4, 0, 0, 0, 0, 0, 0, 0x10, 0, 0x40, 0xc0]));
    await new Promise<void>((res, rej) => port.drain((e) => (e ? rej(e) : res())));
    await until(() => chip.bytesFromHost === before + 14, 'the request to reach the chip');
    expect(chip.commandCounts.size).toBe(handled);
  });

  test('IO0 is sampled after EN rises, so a two-step line change through "both on" still enters download', async () => {
    // Straight on the chip's host port, whose line changes are synchronous: the three steps cannot
    // be pulled apart by a busy scheduler, so the strap delay alone decides the outcome.
    const chip = new VirtualChip({ chip: 'esp32', pacing: false });
    const host = chip.connect({ data: () => {}, disconnected: () => {} }, 115200);
    host.setSignals({ dtr: false, rts: true }); // EN low
    host.setSignals({ dtr: true, rts: true }); // EN high, IO0 still high for a moment
    host.setSignals({ dtr: true, rts: false }); // IO0 low within the strap window
    expect(chip.mode).toBe('reset'); // not sampled yet
    await until(() => chip.mode !== 'reset', 'the strap to be sampled');
    host.setSignals({ dtr: false, rts: false });
    expect(chip.mode).toBe('download');
    host.close();
  });
});
