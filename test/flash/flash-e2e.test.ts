// End to end through esptool-js 0.7.0: partition table + factory NVS + a fake ESP-IDF build onto
// a virtual chip of every kind in the chip table; flash compared byte for byte, NVS parsed back.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { VirtualChipRegistry, virtualPortOpener } from '../../src-main/virtual-chip/index.ts';
import { connectAndIdentify, flashDevice } from '../../src-main/flash/flasher.ts';
import { readNvsImage } from '../../shared/nvs/reader.ts';
import type { ChipName } from '../../src-main/flash/chips.ts';
import { CHIP_IDS } from '../../shared/chips.ts';
import { until } from '../virtual-chip/helpers/wait.ts';
import { assertPortFree, fixture, homekitPlan, nvsCase, nvsImage, TABLE_BIN } from './helpers.ts';

/** What esptool-js reads from each virtual chip's eFuses, and where its ROM loads the bootloader from. */
const CHIPS: { chip: ChipName; description: RegExp; bootloaderAt: number }[] = [
  { chip: 'esp32', description: /^ESP32-D0WD-V3 \(revision 3\)$/, bootloaderAt: 0x1000 },
  { chip: 'esp32s2', description: /^ESP32-S2 \(revision v1\.0\)$/, bootloaderAt: 0x1000 },
  { chip: 'esp32s3', description: /^ESP32-S3/, bootloaderAt: 0x0 },
  { chip: 'esp32c3', description: /^ESP32-C3/, bootloaderAt: 0x0 },
  { chip: 'esp32c6', description: /^ESP32-C6 \(revision 1\)$/, bootloaderAt: 0x0 },
];
it('covers every chip of the table', () => expect(CHIPS.map((c) => c.chip)).toEqual(CHIP_IDS));

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe.each(CHIPS)('flashing a virtual $chip', ({ chip, description, bootloaderAt }) => {
  it('writes table, factory NVS, bootloader, app and otadata byte for byte, verifies and boots the firmware', async () => {
    const registry = new VirtualChipRegistry();
    const path = `virtual:${chip}`;
    const mac = '24:0a:c4:12:34:56';
    const vchip = registry.create(path, { chip, mac, pacing: false });
    const plan = await homekitPlan(chip);
    const stages = new Set<string>();
    let lastPercent = 0;
    let monotonic = true;

    const result = await flashDevice(path, plan, {
      openPort: virtualPortOpener(registry),
      verify: 'readback',
      onProgress: (e) => {
        stages.add(e.stage);
        if (e.percent < lastPercent) monotonic = false;
        lastPercent = e.percent;
      },
    });

    expect(result.chip).toBe(chip);
    expect(result.mac).toBe(mac);
    expect(result.device.description).toMatch(description);
    expect(result.flashSize).toBe(4 * 1024 * 1024);
    expect(result.attempts).toBe(1);
    expect([...stages]).toEqual(expect.arrayContaining(['connect', 'identify', 'stub', 'write', 'verify', 'readback', 'reset', 'done']));
    expect(monotonic).toBe(true);
    expect(lastPercent).toBe(100);

    // Every region on the virtual flash, byte for byte, at the expected places.
    const flash = vchip.flash;
    const expected: [string, number, Uint8Array][] = [
      ['bootloader', bootloaderAt, fixture('idf-build', chip, 'bootloader', 'bootloader.bin')],
      ['partition-table', 0x8000, TABLE_BIN()],
      ['otadata', 0x16000, fixture('idf-build', chip, 'ota_data_initial.bin')],
      ['app', 0x20000, fixture('idf-build', chip, 'fan.bin')],
      ['factory_nvs', 0x340000, nvsImage(0)],
    ];
    for (const [name, offset, data] of expected) {
      expect(Buffer.from(flash.subarray(offset, offset + data.length)).equals(Buffer.from(data)), name).toBe(true);
      const region = result.regions.find((r) => r.name === name)!;
      expect(region.offset).toBe(offset);
    }
    // The rest of the 0x6000 factory_nvs partition is erased (no stale pages from an older image).
    expect(flash.subarray(0x340000 + nvsImage(0).length, 0x346000).every((b) => b === 0xff)).toBe(true);
    // Reported MD5s are those of the bytes on flash.
    for (const r of result.regions) expect(r.md5).toBe(md5(flash.subarray(r.offset, r.offset + r.size)));

    // The NVS partition parses back to the identity that was generated (case.json facts).
    const facts = nvsCase(0);
    const parsed = readNvsImage(flash.slice(0x340000, 0x346000));
    expect(parsed.problems).toEqual([]);
    const items = new Map(parsed.items.filter((i) => i.namespace === 'hap_setup').map((i) => [i.key, i.value]));
    expect(new TextDecoder().decode(items.get('setup_id') as Uint8Array)).toBe(facts.setup_id);
    expect(Buffer.from(items.get('setup_salt') as Uint8Array).toString('hex')).toBe(facts.salt_hex.toLowerCase());
    expect(result.readback).toMatchObject({ offset: 0x340000, size: 0x6000, matches: true, nvs: { namespaces: ['hap_setup'], items: 3, problems: [] } });

    // A real reset at the end: the chip leaves the stub and boots the new firmware (once the EN
    // capacitor has charged and the strap is sampled, a few ms after the flasher let go).
    await until(() => vchip.mode === 'firmware', 'the unit to boot its firmware');
    await assertPortFree(registry, path);
  });
});

describe('identify before flash', () => {
  it('reads chip, MAC and flash size, releases the port, and flashDevice checks the MAC', async () => {
    const registry = new VirtualChipRegistry();
    registry.create('virtual:a', { chip: 'esp32c3', mac: '7c:df:a1:00:00:01', flashSize: 8 * 1024 * 1024, pacing: false });
    const info = await connectAndIdentify('virtual:a', { openPort: virtualPortOpener(registry) });
    expect(info).toMatchObject({ chip: 'esp32c3', chipName: 'ESP32-C3', mac: '7c:df:a1:00:00:01', flashSize: 8 * 1024 * 1024 });
    expect(info.usb).toMatchObject({ vendorId: '303a', productId: '1001' });
    await assertPortFree(registry, 'virtual:a');

    const plan = await homekitPlan('esp32c3', { withBuild: false });
    const wrong = flashDevice('virtual:a', plan, { openPort: virtualPortOpener(registry), expectMac: '7c:df:a1:00:00:02' });
    await expect(wrong).rejects.toMatchObject({ code: 'wrong-device' });
    await assertPortFree(registry, 'virtual:a');
    const ok = await flashDevice('virtual:a', plan, { openPort: virtualPortOpener(registry), expectMac: '7C-DF-A1-00-00-01' });
    expect(ok.regions.map((r) => r.name)).toEqual(['partition-table', 'factory_nvs']);
  });
});

describe('boards without auto-reset wiring', () => {
  it("with before: 'no-reset', flashes a chip already held in download mode (BOOT pressed by hand)", async () => {
    const registry = new VirtualChipRegistry();
    const vchip = registry.create('virtual:manual', { chip: 'esp32', pacing: false, startInDownloadMode: true });
    const plan = await homekitPlan('esp32', { withBuild: false });
    const result = await flashDevice('virtual:manual', plan, { openPort: virtualPortOpener(registry), before: 'no-reset' });
    expect(result.regions.map((r) => r.md5)).toEqual(plan.regions.map((r) => md5(r.data)));
    expect(Buffer.from(vchip.flash.subarray(0x8000, 0x8c00)).equals(Buffer.from(TABLE_BIN()))).toBe(true);
  });
});

