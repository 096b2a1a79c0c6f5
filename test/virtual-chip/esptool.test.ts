// esptool-js 0.7.0 itself against the virtual chip: detection of all three chips, stub upload,
// baud change, compressed and plain writes with MD5 verify, read-back, erase.
import { afterEach, describe, expect, test } from 'vitest';
import { makeSession, md5Hex, testImage, type Session } from './helpers/session.ts';

let session: Session | null = null;
afterEach(async () => {
  await session?.close();
  session = null;
});

// Expected strings are esptool's own wording for the eFuse values set up per spec §7.
const CASES = [
  { chip: 'esp32', mac: '24:0a:c4:5e:12:34', revision: 300, flashSize: 4 << 20, name: 'ESP32', description: 'ESP32-D0WD-V3 (revision 3)', flashId: 0x1640ef, sizeText: '4MB' },
  { chip: 'esp32s3', mac: 'f4:12:fa:01:02:03', revision: 2, flashSize: 8 << 20, name: 'ESP32-S3', description: 'ESP32-S3 (QFN56) (revision v0.2)', flashId: 0x1740ef, sizeText: '8MB' },
  { chip: 'esp32c3', mac: '58:cf:79:aa:bb:cc', revision: 4, flashSize: 2 << 20, name: 'ESP32-C3', description: 'ESP32-C3 (QFN32) (revision v0.4)', flashId: 0x1540ef, sizeText: '2MB' },
] as const;

describe.each(CASES)('$chip', (c) => {
  test('main() detects chip, revision, MAC, flash; stub runs; compressed write verifies; read-back matches', async () => {
    session = makeSession({ chip: c.chip, mac: c.mac, revision: c.revision, flashSize: c.flashSize, pacing: false });
    const { loader, chip, log } = session;
    const description = await loader.main();
    expect(description).toBe(c.description);
    expect(loader.chip.CHIP_NAME).toBe(c.name);
    expect(await loader.chip.readMac(loader)).toBe(c.mac);
    expect(log).toContain(`MAC: ${c.mac}`);
    expect(loader.IS_STUB).toBe(true);
    expect(chip.stubRunning).toBe(true);
    expect(chip.stubImage).not.toBeNull();
    expect(chip.baud).toBe(921600);
    expect(await loader.readFlashId()).toBe(c.flashId);
    expect(await loader.detectFlashSize()).toBe(c.sizeText);

    const table = testImage(3072, 7);
    const app = testImage(24 * 1024, 11);
    await loader.writeFlash({
      fileArray: [{ data: table, address: 0x8000 }, { data: app, address: 0x20000 }],
      flashSize: 'keep', flashMode: 'keep', flashFreq: 'keep', eraseAll: false, compress: true,
      calculateMD5Hash: md5Hex,
    });
    expect(log).toContain('Hash of data verified.');
    expect(chip.flash.subarray(0x8000, 0x8000 + table.length)).toEqual(table);
    expect(chip.flash.subarray(0x20000, 0x20000 + app.length)).toEqual(app);
    // The rest of the erased sector stays blank.
    expect(chip.flash.subarray(0x8c00, 0x9000).every((b) => b === 0xff)).toBe(true);

    const back = await loader.readFlash(0x20000, app.length);
    expect(back).toEqual(app);
    expect(await loader.flashMd5sum(0x8000, table.length)).toBe(md5Hex(table));
  });
});

test('ESP32 uncompressed write, NOR semantics, chip erase', async () => {
  session = makeSession({ chip: 'esp32', pacing: false });
  const { loader, chip, log } = session;
  await loader.main();
  // Stale data in the target sector must be erased by FLASH_BEGIN, not AND-ed with the new data.
  chip.flash.fill(0x00, 0x8000, 0xc000);
  const data = testImage(5000, 3);
  await loader.writeFlash({
    fileArray: [{ data, address: 0x9000 }],
    flashSize: 'keep', flashMode: 'keep', flashFreq: 'keep', eraseAll: false, compress: false,
    calculateMD5Hash: md5Hex,
  });
  expect(log).toContain('Hash of data verified.');
  expect(chip.flash.subarray(0x9000, 0x9000 + data.length)).toEqual(data);
  // The two touched sectors were erased whole; the stub programs only the announced size although
  // the last block was padded to 16 KiB; neighbouring sectors are untouched.
  expect(chip.flash.subarray(0x9000 + 5000, 0xb000).every((b) => b === 0xff)).toBe(true);
  expect(chip.flash.subarray(0x8000, 0x9000).every((b) => b === 0x00)).toBe(true);
  expect(chip.flash.subarray(0xb000, 0xc000).every((b) => b === 0x00)).toBe(true);

  await loader.eraseFlash();
  expect(chip.flash.every((b) => b === 0xff)).toBe(true);
});

test('ESP32 at 115200 without baud change, paced: detect and a small verified write', async () => {
  session = makeSession({ chip: 'esp32', mac: '24:0a:c4:00:00:01' }, { baudrate: 115200 });
  const { loader, chip, log } = session;
  expect(await loader.main()).toBe('ESP32-D0WD-V3 (revision 3)');
  expect(log).toContain('Crystal is 40MHz');
  const data = testImage(2048, 5);
  await loader.writeFlash({
    fileArray: [{ data, address: 0x10000 }],
    flashSize: 'keep', flashMode: 'keep', flashFreq: 'keep', eraseAll: false, compress: true,
    calculateMD5Hash: md5Hex,
  });
  expect(chip.flash.subarray(0x10000, 0x10000 + data.length)).toEqual(data);
  expect(chip.baud).toBe(115200);
});
