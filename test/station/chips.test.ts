// Acceptance (issue 17, chips): a unit of every chip of the chip table, ESP32-S2 and ESP32-C6
// included, provisioned through the station pipeline on a virtual chip with its firmware build; the
// flash is compared byte for byte with the build's files and the partition table, the factory NVS
// parsed back to the database's identity, and everything else is erased. A profile for one chip
// refuses a board of another before anything is written and before an identity is spent.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHIP_IDS, chipInfo, type ChipId } from '../../shared/chips.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { loadProfile } from '../../src-main/station/profile-file.ts';
import { Station } from '../../src-main/station/station.ts';
import { OP, VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { FACTORY_NVS, randomMac, setupDataOnFlash } from './helpers.ts';

const FLASH_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'flash');
const build = (chip: ChipId, file: string) => new Uint8Array(readFileSync(join(FLASH_FIXTURES, 'idf-build', chip, file)));

/** A product for `chip` with its stand-in ESP-IDF build (bootloader, app, otadata). */
async function productFor(chip: ChipId) {
  const dir = mkdtempSync(join(tmpdir(), `hkfs-chip-${chip}-`));
  writeFileSync(join(dir, 'partitions.csv'), readFileSync(join(FLASH_FIXTURES, 'partition', 'partitions_hap.csv')));
  writeFileSync(join(dir, 'profile.json'), JSON.stringify({
    schema: 1, id: `fan-${chip}`, productName: `Fan ${chipInfo(chip).name}`, category: 3,
    nvs: { size: '0x6000' }, expectedChip: chip,
    firmware: { partitionTable: 'partitions.csv', flasherArgs: join(FLASH_FIXTURES, 'idf-build', chip, 'flasher_args.json') },
    label: { size: '40x30' },
  }));
  const profile = await loadProfile(join(dir, 'profile.json'));
  const db = openRegistry(join(dir, 'station.db'));
  const registry = new VirtualChipRegistry();
  const station = new Station({ db, profile, labelDir: join(dir, 'labels'), stationName: 'chips', operator: 'test', virtualRegistry: registry });
  return { db, registry, station };
}

describe.each(CHIP_IDS.map((c) => [c]))('%s', (chip) => {
  it('is provisioned with its firmware: every region byte for byte where its ROM expects it, the rest erased', async () => {
    const { db, registry, station } = await productFor(chip);
    const vchip = registry.create(`virtual:${chip}`, { chip, mac: randomMac(), pacing: false });
    const outcome = await station.provisionNext(`virtual:${chip}`);
    expect(outcome.kind, JSON.stringify(outcome)).toBe('done');
    if (outcome.kind !== 'done') return;
    expect(outcome.result.unit.chip).toBe(chip);

    const flash = vchip.flash;
    const expected = new Uint8Array(flash.length).fill(0xff);
    const table = new Uint8Array(readFileSync(join(FLASH_FIXTURES, 'partition', 'partitions_hap.bin')));
    for (const [offset, data] of [
      [chipInfo(chip).bootloaderOffset, build(chip, 'bootloader/bootloader.bin')],
      [0x8000, table],
      [0x16000, build(chip, 'ota_data_initial.bin')],
      [0x20000, build(chip, 'fan.bin')],
    ] as const) expected.set(data, offset);
    // The factory NVS is the unit's own: taken from the flash, then checked on its own below.
    const nvs = flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
    expected.set(nvs, FACTORY_NVS.offset);
    expect(Buffer.compare(Buffer.from(flash), Buffer.from(expected))).toBe(0);

    const stored = (await db.getUnit(outcome.result.unit.id))!;
    const onDevice = setupDataOnFlash(flash);
    expect(onDevice.problems).toEqual([]);
    expect(onDevice.setupId).toBe(stored.setupId);
    expect(Buffer.from(onDevice.salt!).equals(Buffer.from(stored.salt))).toBe(true);
    expect(Buffer.from(onDevice.verifier!).equals(Buffer.from(stored.verifier))).toBe(true);
    // What the database says was flashed is what the chip holds (the image, then 0xFF to the partition's end).
    const image = nvs.subarray(0, 0x6000);
    expect(createHash('sha256').update(image).digest('hex')).toBe(stored.imageSha256);
  });
});

describe('a profile for one chip, a board of another', () => {
  it.each([['esp32c6', 'esp32s2'], ['esp32s2', 'esp32c6'], ['esp32c3', 'esp32c6']] as [ChipId, ChipId][])(
    'a %s product refuses an %s board before anything is written and before an identity is spent',
    async (product, board) => {
      const { db, registry, station } = await productFor(product);
      const vchip = registry.create('virtual:other', { chip: board, mac: randomMac(), pacing: false });
      const writes = () => [OP.FLASH_BEGIN, OP.FLASH_DEFL_BEGIN, OP.ERASE_REGION, OP.ERASE_FLASH].reduce((n, op) => n + (vchip.commandCounts.get(op) ?? 0), 0);
      const outcome = await station.provisionNext('virtual:other');
      expect(outcome).toMatchObject({ kind: 'failed', stage: 'identity', code: 'wrong-chip' });
      if (outcome.kind !== 'failed') return;
      expect(outcome.message).toContain(chipInfo(board).name);
      expect(outcome.unitId).toBeUndefined();
      expect((await db.listUnits())).toEqual([]);
      expect(writes()).toBe(0);
      expect(vchip.flash.every((b) => b === 0xff)).toBe(true);
    },
  );
});
