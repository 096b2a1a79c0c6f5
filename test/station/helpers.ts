import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { createDemoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { Station, type StationOptions } from '../../src-main/station/station.ts';
import { firmwareDescriptor, VirtualChipRegistry, type FirmwareModel } from '../../src-main/virtual-chip/index.ts';

/** The esp-homekit-sdk table puts factory_nvs at 0x340000, 0x6000 bytes (fixture partitions_hap.csv). */
export const FACTORY_NVS = { offset: 0x340000, size: 0x6000 };

export async function demoStation(overrides: Partial<StationOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hkfs-station-'));
  const profile = await loadProfile(await createDemoProfile(dir));
  const db = openRegistry(join(dir, 'station.db'), { station: 'test-bench' });
  const registry = new VirtualChipRegistry();
  const station = new Station({ db, profile, labelDir: join(dir, 'labels'), stationName: 'test-bench', operator: 'tester', virtualRegistry: registry, ...overrides });
  return { dir, db, registry, station, profile };
}

/** What the device holds: salt, verifier and setup ID read back from its flash (independent of the DB). */
export function setupDataOnFlash(flash: Uint8Array) {
  const image = flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
  const read = readNvsImage(image);
  const salt = findBlob(read, 'hap_setup', 'setup_salt');
  const verifier = findBlob(read, 'hap_setup', 'setup_verifier');
  const id = findBlob(read, 'hap_setup', 'setup_id');
  return { problems: read.problems, salt, verifier, setupId: id ? new TextDecoder().decode(id) : undefined };
}

/** The setup code as printed on the label SVG (what an end user types). */
export function codeOnLabel(svg: string): string | undefined {
  return /(\d{3}-\d{2}-\d{3})/.exec(svg)?.[1];
}

export function randomMac(): string {
  const b = [0x24, 0x0a, 0xc4, ...Array.from({ length: 3 }, () => Math.floor(Math.random() * 256))];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const FLASH_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'flash');

/**
 * A copy of the stand-in ESP-IDF build of `chip` in `dir`, its app image carrying `firmware` (the
 * virtual chip's firmware descriptor, so the unit runs that model once flashed). Returns the path of
 * its flasher_args.json.
 */
export function standInBuild(dir: string, chip: string, firmware?: FirmwareModel): string {
  const src = join(FLASH_FIXTURES, 'idf-build', chip);
  cpSync(src, dir, { recursive: true });
  if (firmware) {
    const app = new Uint8Array(readFileSync(join(dir, 'fan.bin')));
    app.set(firmwareDescriptor(firmware), 0x100);
    writeFileSync(join(dir, 'fan.bin'), app);
  }
  return join(dir, 'flasher_args.json');
}

/** A product profile in `dir` for `chip` with a stand-in build (see standInBuild) and `extra` fields. */
export async function productWithFirmware(dir: string, chip: string, firmware: FirmwareModel | undefined, extra: Record<string, unknown> = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'partitions.csv'), readFileSync(join(FLASH_FIXTURES, 'partition', 'partitions_hap.csv')));
  const flasherArgs = standInBuild(join(dir, `build-${firmware?.kind ?? 'plain'}`), chip, firmware);
  writeFileSync(join(dir, 'profile.json'), JSON.stringify({
    schema: 1, id: 'boot-fan', productName: 'Boot Fan', category: 3, nvs: { size: '0x6000' }, expectedChip: chip,
    firmware: { partitionTable: 'partitions.csv', flasherArgs }, label: { size: '40x30' }, ...extra,
  }));
  return loadProfile(join(dir, 'profile.json'));
}
