// Every injected fault ends in its typed FlashError (the per-test timeout bounds the time), the
// port is released, and a retry on the same port succeeds.
import { describe, expect, it } from 'vitest';
import { VirtualChipRegistry, type VirtualChip, virtualPortOpener } from '../../src-main/virtual-chip/index.ts';
import { flashDevice, type FlashOptions } from '../../src-main/flash/flasher.ts';
import { FlashError } from '../../src-main/flash/errors.ts';
import { openSerialPort, type PortOpener } from '../../src-main/flash/open-port.ts';
import { SerialPortStream } from '@serialport/stream';
import { createVirtualBinding } from '../../src-main/virtual-chip/index.ts';
import type { FlashPlan } from '../../src-main/flash/plan.ts';
import { assertPortFree, homekitPlan } from './helpers.ts';

const PATH = 'virtual:dut';
const BOUND = { timeout: 20_000 };

function setup(chip: 'esp32' | 'esp32s3' | 'esp32c3' = 'esp32') {
  const registry = new VirtualChipRegistry();
  const vchip = registry.create(PATH, { chip, mac: '24:0a:c4:aa:bb:cc', pacing: false });
  const base: FlashOptions = { openPort: virtualPortOpener(registry), stallTimeoutMs: 1500, connectAttempts: 2 };
  return { registry, vchip, base };
}

function onFlash(vchip: VirtualChip, plan: FlashPlan): boolean {
  return plan.regions.every((r) => Buffer.from(vchip.flash.subarray(r.offset, r.offset + r.data.length)).equals(Buffer.from(r.data)));
}

async function expectCode(p: Promise<unknown>, code: string): Promise<FlashError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FlashError);
  expect((err as FlashError).code).toBe(code);
  return err as FlashError;
}

async function retrySucceeds(registry: VirtualChipRegistry, vchip: VirtualChip, plan: FlashPlan, base: FlashOptions) {
  await assertPortFree(registry, PATH);
  const again = await flashDevice(PATH, plan, base);
  expect(again.regions).toHaveLength(plan.regions.length);
  expect(onFlash(vchip, plan)).toBe(true);
}

describe('injected faults', () => {
  it('unplug during the write → unplugged; replugged, the retry succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32s3');
    const plan = await homekitPlan('esp32s3');
    let pulled = false;
    const err = await expectCode(
      flashDevice(PATH, plan, {
        ...base,
        onProgress: (e) => {
          if (e.stage === 'write' && e.region === 'app' && !pulled) {
            pulled = true;
            vchip.injectFault({ kind: 'unplug', afterBytes: 0 });
          }
        },
      }),
      'unplugged',
    );
    expect(err.message).toMatch(/disconnected.*reconnect/);
    expect(registry.get(PATH)).toBeUndefined();
    registry.add(PATH, vchip); // plug it back in
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('unplug after a byte count (during connect / stub upload) → unplugged', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32');
    const plan = await homekitPlan('esp32', { withBuild: false });
    vchip.injectFault({ kind: 'unplug', afterBytes: 3000 });
    await expectCode(flashDevice(PATH, plan, base), 'unplugged');
    registry.add(PATH, vchip);
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('a chip that stops answering mid-write → timeout (stall watchdog); the retry resets it and succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32');
    const plan = await homekitPlan('esp32');
    let stalled = false;
    const err = await expectCode(
      flashDevice(PATH, plan, {
        ...base,
        onProgress: (e) => {
          if (e.stage === 'write' && e.region === 'app' && !stalled) {
            stalled = true;
            vchip.injectFault({ kind: 'stall' });
          }
        },
      }),
      'timeout',
    );
    expect(err.stage).toMatch(/write:app|abort/);
    expect(vchip.mode).toBe('stalled');
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('a flipped bit in flash → verify-mismatch naming the region; the retry succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32c3');
    const plan = await homekitPlan('esp32c3', { withBuild: false });
    vchip.injectFault({ kind: 'corrupt-write', offset: 0x340010 });
    const err = await expectCode(flashDevice(PATH, plan, base), 'verify-mismatch');
    expect(err.message).toContain('factory_nvs at 0x340000');
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('a board that will not enter download mode → no-download-mode with advice; fixed, the retry succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32');
    const plan = await homekitPlan('esp32', { withBuild: false });
    vchip.injectFault({ kind: 'no-download-mode' });
    const err = await expectCode(flashDevice(PATH, plan, base), 'no-download-mode');
    expect(err.message).toMatch(/hold BOOT, tap RESET/);
    expect(err.message).toMatch(/booted its firmware \(boot:0x13\)/);
    vchip.clearFaults();
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('a port held by another program → port-busy; once released, the retry succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32');
    const plan = await homekitPlan('esp32', { withBuild: false });
    const other = virtualPortOpener(registry)(PATH, 115200) as ReturnType<typeof openSerialPort>;
    await new Promise<void>((resolve, reject) => other.open((e) => (e ? reject(e) : resolve())));
    const err = await expectCode(flashDevice(PATH, plan, base), 'port-busy');
    expect(err.message).toMatch(/in use by another program/);
    await new Promise<void>((resolve) => other.close(() => resolve()));
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('a missing port → port-not-found', BOUND, async () => {
    const { base } = setup('esp32');
    const plan = await homekitPlan('esp32', { withBuild: false });
    await expectCode(flashDevice('virtual:nothing-here', plan, base), 'port-not-found');
  });

  it('cancellation through an AbortSignal mid-write → cancelled; the retry succeeds', BOUND, async () => {
    const { registry, vchip, base } = setup('esp32s3');
    const plan = await homekitPlan('esp32s3');
    const ctl = new AbortController();
    await expectCode(
      flashDevice(PATH, plan, {
        ...base,
        signal: ctl.signal,
        onProgress: (e) => {
          if (e.stage === 'write' && e.region === 'app') ctl.abort();
        },
      }),
      'cancelled',
    );
    await expectCode(flashDevice(PATH, plan, { ...base, signal: ctl.signal }), 'cancelled');
    await retrySucceeds(registry, vchip, plan, base);
  });

  it('wrong chip and too-small flash are refused before anything is written', BOUND, async () => {
    const registry = new VirtualChipRegistry();
    const small = registry.create('virtual:small', { chip: 'esp32', flashSize: 2 * 1024 * 1024, pacing: false });
    registry.create('virtual:c3', { chip: 'esp32c3', pacing: false });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const err = await expectCode(flashDevice('virtual:small', plan, { openPort: virtualPortOpener(registry) }), 'flash-too-small');
    expect(err.message).toMatch(/2 MB of flash/);
    expect(small.flash.every((b) => b === 0xff)).toBe(true);
    await expectCode(flashDevice('virtual:c3', plan, { openPort: virtualPortOpener(registry) }), 'wrong-chip');
    await assertPortFree(registry, 'virtual:small');
    await assertPortFree(registry, 'virtual:c3');
  });

  it('garbled answers at the high rate → one more run at 115200 that succeeds', BOUND, async () => {
    const { registry, vchip } = setup('esp32');
    const plan = await homekitPlan('esp32');
    // A cable that is fine at 115200 but corrupts the chip's answers once a few hundred bytes
    // have passed at a higher rate (so esptool-js's own post-baud-change probe still passes).
    const inner = createVirtualBinding(registry);
    const garbling = {
      list: () => inner.list(),
      async open(options: Parameters<typeof inner.open>[0]) {
        const port = await inner.open(options);
        let baud = options.baudRate;
        let fastBytes = 0;
        const update = port.update.bind(port);
        const read = port.read.bind(port);
        port.update = async (o) => {
          baud = o.baudRate;
          return update(o);
        };
        port.read = async (buffer, offset, length) => {
          const r = await read(buffer, offset, length);
          if (baud > 115200 && (fastBytes += r.bytesRead) > 400) buffer[offset] = 0x55;
          return r;
        };
        return port;
      },
    };
    const openPort: PortOpener = (path, baudRate) => new SerialPortStream({ binding: garbling as never, path, baudRate, autoOpen: false });
    const result = await flashDevice(PATH, plan, { openPort, stallTimeoutMs: 2000 });
    expect(result.attempts).toBe(2);
    expect(result.baud).toBe(115200);
    expect(result.warnings.join('\n')).toMatch(/921600 baud failed .*flashed again at 115200 baud/);
    expect(onFlash(vchip, plan)).toBe(true);
    await assertPortFree(registry, PATH);
  });
});
