// Four stations' worth of flashing at once: four virtual devices, each with its own factory NVS
// image, flashed concurrently through four esptool-js instances.
import { expect, it } from 'vitest';
import { VirtualChipRegistry, virtualPortOpener } from '../../src-main/virtual-chip/index.ts';
import { flashDevice } from '../../src-main/flash/flasher.ts';
import { readNvsImage } from '../../shared/nvs/reader.ts';
import type { ChipName } from '../../src-main/flash/chips.ts';
import { assertPortFree, homekitPlan, nvsCase, nvsImage } from './helpers.ts';

it('flashes four virtual devices concurrently, each with its own image', { timeout: 30_000 }, async () => {
  const registry = new VirtualChipRegistry();
  const units: { path: string; chip: ChipName; mac: string; nvs: number }[] = [
    { path: 'virtual:slot1', chip: 'esp32', mac: '24:0a:c4:00:00:01', nvs: 0 },
    { path: 'virtual:slot2', chip: 'esp32s3', mac: 'f4:12:fa:00:00:02', nvs: 1 },
    { path: 'virtual:slot3', chip: 'esp32c3', mac: '7c:df:a1:00:00:03', nvs: 2 },
    { path: 'virtual:slot4', chip: 'esp32', mac: '24:0a:c4:00:00:04', nvs: 3 },
  ];
  const chips = units.map((u) => registry.create(u.path, { chip: u.chip, mac: u.mac, pacing: false }));
  const plans = await Promise.all(units.map((u) => homekitPlan(u.chip, { nvs: u.nvs })));

  const results = await Promise.all(units.map((u, i) => flashDevice(u.path, plans[i], { openPort: virtualPortOpener(registry), verify: 'readback' })));

  units.forEach((u, i) => {
    expect(results[i]).toMatchObject({ port: u.path, chip: u.chip, mac: u.mac });
    const flash = chips[i].flash;
    for (const r of plans[i].regions) {
      expect(Buffer.from(flash.subarray(r.offset, r.offset + r.data.length)).equals(Buffer.from(r.data)), `${u.path} ${r.name}`).toBe(true);
    }
    const image = nvsImage(u.nvs);
    expect(Buffer.from(flash.subarray(0x340000, 0x340000 + image.length)).equals(Buffer.from(image))).toBe(true);
    const parsed = readNvsImage(flash.slice(0x340000, 0x346000));
    const setupId = parsed.items.find((it) => it.namespace === 'hap_setup' && it.key === 'setup_id')!.value as Uint8Array;
    expect(new TextDecoder().decode(setupId)).toBe(nvsCase(u.nvs).setup_id);
  });
  // Four different identities really ended up on four different devices.
  expect(new Set(chips.map((c) => Buffer.from(c.flash.subarray(0x340000, 0x346000)).toString('hex'))).size).toBe(4);
  for (const u of units) await assertPortFree(registry, u.path);
});
