// Getting to the loader: one fast reset per connect on every chip and reset circuit; serial
// devices without modem lines (a pty, some adapters) detected and used without reset;
// esptool's --before / --after no-reset; what the ROM path tells the chip; regions already on
// flash left alone.
import { describe, expect, it } from 'vitest';
import { SerialPortStream } from '@serialport/stream';
import { createVirtualBinding, OP, VirtualChipRegistry, virtualPortOpener, type ResetCircuit } from '../../src-main/virtual-chip/index.ts';
import { connectAndIdentify, flashDevice } from '../../src-main/flash/flasher.ts';
import type { PortOpener } from '../../src-main/flash/open-port.ts';
import type { ChipName } from '../../src-main/flash/chips.ts';
import { assertPortFree, homekitPlan } from './helpers.ts';

const PATH = 'virtual:dut';

/** The virtual binding with the modem-line ioctls failing as they do on a pty. */
function withoutModemLines(registry: VirtualChipRegistry): PortOpener {
  const inner = createVirtualBinding(registry);
  const binding = {
    list: () => inner.list(),
    async open(options: Parameters<typeof inner.open>[0]) {
      const port = await inner.open(options);
      port.set = async () => {
        throw new Error('Inappropriate ioctl for device, cannot set');
      };
      port.get = async () => {
        throw new Error('Inappropriate ioctl for device, cannot get');
      };
      return port;
    },
  };
  return (path, baudRate) => new SerialPortStream({ binding: binding as never, path, baudRate, autoOpen: false });
}

describe('reset into download mode', () => {
  const cases: [ChipName, ResetCircuit][] = [
    ['esp32', 'uart-bridge'],
    ['esp32s3', 'uart-bridge'],
    ['esp32s3', 'usb-jtag'],
    ['esp32c3', 'uart-bridge'],
    ['esp32c3', 'usb-jtag'],
    ['esp32s2', 'uart-bridge'],
    ['esp32c6', 'uart-bridge'],
    ['esp32c6', 'usb-jtag'],
  ];
  it.each(cases)('%s behind a %s: one reset, then the ROM loader answers', async (chip, circuit) => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip, circuit, pacing: false });
    const info = await connectAndIdentify(PATH, { openPort: virtualPortOpener(registry) });
    expect(info.chip).toBe(chip);
    expect(info.modemLines).toBe(true);
    expect(vchip.resetCount).toBe(1);
    expect(vchip.mode).toBe('download');
    expect(vchip.stubRunning).toBe(false); // identifying needs no stub
  });
});

describe('serial devices without modem lines', () => {
  it('are used without reset when the chip is already in download mode, and say so', async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip: 'esp32', pacing: false, startInDownloadMode: true });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const result = await flashDevice(PATH, plan, { openPort: withoutModemLines(registry) });
    expect(result.device.modemLines).toBe(false);
    expect(result.warnings).toEqual([
      'virtual:dut has no DTR/RTS lines: the chip was not reset and must already be in download mode',
      'virtual:dut has no DTR/RTS lines: the chip was not reset; reset it by hand to run the new firmware',
    ]);
    expect(vchip.resetCount).toBe(0);
    expect(vchip.mode).toBe('download');
    for (const r of plan.regions) expect(Buffer.from(vchip.flash.subarray(r.offset, r.offset + r.data.length)).equals(Buffer.from(r.data))).toBe(true);
    await assertPortFree(registry, PATH);
  });

  it('name the real cause when the chip is not in download mode', async () => {
    const registry = new VirtualChipRegistry();
    registry.create(PATH, { chip: 'esp32', pacing: false });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const err = await flashDevice(PATH, plan, { openPort: withoutModemLines(registry), connectAttempts: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'no-download-mode' });
    expect((err as Error).message).toMatch(/has no DTR\/RTS lines, so the chip could not be reset into download mode/);
    expect((err as Error).message).not.toMatch(/Inappropriate ioctl|cable|baud/);
  });
});

describe('a chip that does not follow the baud change', () => {
  it('is reset and used at 115200, with a warning', async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip: 'esp32', pacing: false });
    // An adapter that accepts the new rate but keeps running at 115200: after CHANGE_BAUDRATE the
    // chip talks at 921600 and the host hears garbage.
    const inner = createVirtualBinding(registry);
    const stuck = {
      list: () => inner.list(),
      async open(options: Parameters<typeof inner.open>[0]) {
        const port = await inner.open(options);
        port.update = async () => undefined;
        return port;
      },
    };
    const openPort: PortOpener = (path, baudRate) => new SerialPortStream({ binding: stuck as never, path, baudRate, autoOpen: false });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const result = await flashDevice(PATH, plan, { openPort, stallTimeoutMs: 1500 });
    expect(result.baud).toBe(115200);
    expect(result.warnings).toContain('the chip did not answer at 921600 baud; continued at 115200 baud');
    expect(vchip.resetCount).toBeGreaterThanOrEqual(2); // reset again to get the ROM back to 115200
    for (const r of plan.regions) expect(Buffer.from(vchip.flash.subarray(r.offset, r.offset + r.data.length)).equals(Buffer.from(r.data))).toBe(true);
  });
});

describe('--before / --after no-reset', () => {
  it('leave DTR/RTS alone: a chip held in download mode is flashed and stays in its loader', async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip: 'esp32c3', pacing: false, startInDownloadMode: true });
    const plan = await homekitPlan('esp32c3', { withBuild: false });
    const result = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry), before: 'no-reset', after: 'no-reset' });
    expect(result.warnings).toEqual([]);
    expect(vchip.resetCount).toBe(0);
    expect(vchip.mode).toBe('download');
  });
});

describe('the ROM path', () => {
  it('attaches the flash and declares its size before touching it, as esptool does without the stub', async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip: 'esp32', pacing: false, flashSize: 8 << 20 });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const result = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry), loader: 'rom' });
    expect(result.loader).toBe('rom');
    expect(vchip.stubImage).toBeNull(); // no stub was uploaded
    expect(vchip.commandCounts.get(OP.SPI_ATTACH)).toBe(1);
    expect(vchip.commandCounts.get(OP.SPI_SET_PARAMS)).toBe(1);
    expect(vchip.commandCounts.get(OP.MEM_BEGIN)).toBeUndefined();
  });
});

describe('regions already on flash', () => {
  it('are verified by their MD5 and not written again', async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create(PATH, { chip: 'esp32s3', pacing: false });
    const plan = await homekitPlan('esp32s3');
    const first = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry) });
    // otadata is all 0xFF: on a blank chip it is already there.
    expect(first.regions.filter((r) => r.unchanged).map((r) => r.name)).toEqual(['otadata']);
    const begins = vchip.commandCounts.get(OP.FLASH_DEFL_BEGIN);
    const again = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry) });
    expect(again.regions.every((r) => r.unchanged && r.compressedSize === 0)).toBe(true);
    expect(again.regions.map((r) => r.md5)).toEqual(first.regions.map((r) => r.md5));
    expect(vchip.commandCounts.get(OP.FLASH_DEFL_BEGIN)).toBe(begins);
  });
});
