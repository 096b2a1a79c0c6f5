import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { createDemoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { Station, type StationOptions } from '../../src-main/station/station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';

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
