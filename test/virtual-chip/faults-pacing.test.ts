// Fault injection as the app's error paths will meet it, and the pacing model.
import { afterEach, describe, expect, test } from 'vitest';
import { bytesCompleted, Wire, wireTimeMs } from '../../src-main/virtual-chip/index.ts';
import { makeSession, md5Hex, testImage, type Session } from './helpers/session.ts';
import { hex, rawLink } from './helpers/raw.ts';
import { until } from './helpers/wait.ts';

let session: Session | null = null;
afterEach(async () => {
  await session?.close().catch(() => undefined);
  session = null;
});

const writeOpts = { flashSize: 'keep', flashMode: 'keep', flashFreq: 'keep', eraseAll: false, calculateMD5Hash: md5Hex } as const;

describe('faults', () => {
  test('unplug after N bytes: exactly N bytes cross, then the port dies and the path disappears', async () => {
    const link = await rawLink({ chip: 'esp32', pacing: false, startInDownloadMode: true });
    let lost: Error | null = null;
    // rawLink's listener ignores disconnects; watch the chip instead.
    link.chip.on('unplug', (e: Error) => (lost = e));
    link.chip.injectFault({ kind: 'unplug', afterBytes: 50 });
    link.port.write(hex('C0 00 08 24 00 00 00 00 00 07 07 12 20' + ' 55'.repeat(32) + ' C0')); // 46 bytes
    await until(() => lost !== null, 'the unplug');
    expect(link.received()).toEqual(hex('C0 01 08 04')); // 46 + 4 = 50
    expect(lost).not.toBeNull();
    expect(link.chip.mode).toBe('off');
  });

  test('unplug during an esptool-js write: the write fails, SerialPort reports a disconnect, list() drops the port', async () => {
    session = makeSession({ chip: 'esp32', pacing: false });
    const { loader, chip, registry, device } = session;
    await loader.main();
    chip.injectFault({ kind: 'unplug', afterBytes: 30_000 });
    const write = loader.writeFlash({ ...writeOpts, fileArray: [{ data: testImage(64 * 1024), address: 0x10000 }], compress: false });
    write.catch(() => undefined); // esptool-js itself only notices via its 3 s timeouts
    await expect(Promise.race([write, device.whenLost()])).rejects.toThrow(/disconnected/);
    expect(device.lost).toBeInstanceOf(Error);
    expect(device.isOpen).toBe(false);
    expect(registry.list()).toEqual([]);
    expect(chip.mode).toBe('off');
  });

  test('corrupt-write flips one byte in flash, so the MD5 verify fails', async () => {
    session = makeSession({ chip: 'esp32c3', pacing: false });
    const { loader, chip } = session;
    await loader.main();
    const data = testImage(8192, 9);
    chip.injectFault({ kind: 'corrupt-write', offset: 0x10000 + 1234 });
    await expect(loader.writeFlash({ ...writeOpts, fileArray: [{ data, address: 0x10000 }], compress: true })).rejects.toThrow(
      /MD5 of file does not match/,
    );
    const written = chip.flash.subarray(0x10000, 0x10000 + data.length);
    const diffs = [...written.keys()].filter((i) => written[i] !== data[i]);
    expect(diffs).toEqual([1234]);
    // One-shot: the retry is clean.
    await loader.writeFlash({ ...writeOpts, fileArray: [{ data, address: 0x10000 }], compress: true });
    expect(chip.flash.subarray(0x10000, 0x10000 + data.length)).toEqual(data);
  });

  test('stall: the chip stops answering until the fault is cleared (or a reset)', async () => {
    session = makeSession({ chip: 'esp32s3', pacing: false });
    const { loader, chip } = session;
    await loader.main();
    chip.injectFault({ kind: 'stall' });
    expect(chip.mode).toBe('stalled');
    await expect(loader.readReg(0x40001000, 150)).rejects.toThrow();
    chip.clearFaults();
    expect(await loader.readReg(0x40001000, 500)).toBe(9);
  });

  test('no-download-mode: resets boot the firmware, so esptool-js cannot connect', async () => {
    session = makeSession({ chip: 'esp32', pacing: false });
    const { loader, chip } = session;
    chip.injectFault({ kind: 'no-download-mode' });
    await expect(loader.detectChip('default_reset', 1)).rejects.toThrow(/Failed to connect/);
    expect(chip.resetCount).toBeGreaterThanOrEqual(1);
    expect(chip.mode).toBe('firmware');
    expect(session.device.recentText()).toContain('boot:0x13 (SPI_FAST_FLASH_BOOT)');
  });
});

describe('pacing', () => {
  test('wire time is 10 bits per byte (figures from spec §15)', () => {
    expect(wireTimeMs(16 * 1024, 115200)).toBeCloseTo(1422.2, 1);
    expect(wireTimeMs(16 * 1024, 921600)).toBeCloseTo(177.8, 1);
    expect(wireTimeMs(112, 115200)).toBeCloseTo(9.72, 2); // 8 ROM SYNC replies
    expect(wireTimeMs(46, 115200)).toBeCloseTo(3.99, 2); // one SYNC request
    expect(bytesCompleted(1, 115200)).toBe(11);
    expect(bytesCompleted(10, 921600)).toBe(921);
    expect(bytesCompleted(0, 115200)).toBe(0);
  });

  test('a paced burst arrives in order and no faster than the line allows; unpaced arrives in one piece', async () => {
    const payload = Uint8Array.from({ length: 1152 }, (_, i) => i & 0xff);
    const run = (paced: boolean) =>
      new Promise<{ pieces: Uint8Array[]; ms: number }>((resolve) => {
        const pieces: Uint8Array[] = [];
        const start = performance.now();
        const wire = new Wire({ paced, deliver: (b) => pieces.push(b.slice()) });
        wire.send(payload, 115200);
        wire.then(() => resolve({ pieces, ms: performance.now() - start }));
      });
    const paced = await run(true);
    const joined = new Uint8Array(paced.pieces.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of paced.pieces) { joined.set(p, o); o += p.length; }
    expect(joined).toEqual(payload);
    expect(paced.pieces.length).toBeGreaterThan(1);
    // 1152 bytes at 115200 baud take 100 ms on the wire; delivery is gated by elapsed time.
    expect(paced.ms).toBeGreaterThanOrEqual(50);
    const unpaced = await run(false);
    expect(unpaced.pieces).toHaveLength(1);
  });
});
