// One unit's flash content: its factory NVS image (hap_setup + the product's constant custom data,
// encrypted when the profile says so) and the write plan (partition table + NVS + firmware).
import { TextDecoder } from 'node:util';
import { readInputFile, readInputFileSync } from '../fs/index.ts';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { buildFactoryCsv } from '../../shared/homekit/factory-csv.ts';
import { generateNvsImage } from '../../shared/nvs/writer.ts';
import { encryptNvsImage } from '../../shared/nvs/encryption.ts';
import { parseKeysFile } from '../../shared/nvs/keys.ts';
import { buildWritePlan, type FlashPlan } from '../flash/index.ts';
import { resolveProfilePath, type LoadedProfile } from './profile-file.ts';

export interface UnitIdentityData {
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
}

/** Product-wide inputs, read once per station session rather than per unit. */
export interface ProductAssets {
  partitionTable: Uint8Array;
  customCsv?: string;
  /** `file`-type rows of the custom CSV are relative to the CSV's folder (as with nvs_partition_gen.py's cwd). */
  customCsvDir?: string;
  keys?: ReturnType<typeof parseKeysFile>;
  flasherArgs?: { json: unknown; baseDir: string };
}

export async function loadProductAssets(loaded: LoadedProfile): Promise<ProductAssets> {
  const p = loaded.profile;
  const assets: ProductAssets = { partitionTable: await readInputFile(resolveProfilePath(loaded, p.firmware.partitionTable)) };
  if (p.customData?.csv) {
    const csvPath = resolveProfilePath(loaded, p.customData.csv);
    assets.customCsv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await readInputFile(csvPath)); // BOM kept, as nvs_partition_gen.py reads it
    assets.customCsvDir = dirname(csvPath);
  }
  if (p.encryption) assets.keys = parseKeysFile(await readInputFile(resolveProfilePath(loaded, p.encryption.keysFile)));
  if (p.firmware.flasherArgs) {
    const path = resolveProfilePath(loaded, p.firmware.flasherArgs);
    assets.flasherArgs = { json: JSON.parse(new TextDecoder().decode(await readInputFile(path))), baseDir: dirname(path) };
  }
  return assets;
}

/** The unit's factory NVS image (encrypted when the profile has a keys file) and its SHA-256 (recorded in the DB). */
export function buildUnitNvsImage(loaded: LoadedProfile, assets: ProductAssets, identity: UnitIdentityData): { image: Uint8Array; sha256: string } {
  const p = loaded.profile;
  const csv = buildFactoryCsv({ setupId: identity.setupId, salt: identity.salt, verifier: identity.verifier, customCsv: assets.customCsv });
  const baseDir = assets.customCsvDir ?? loaded.baseDir;
  const readFile = (path: string) => readInputFileSync(isAbsolute(path) ? path : resolve(baseDir, path));
  let image = generateNvsImage(csv, { size: p.nvs.size, version: p.nvs.version, layout: p.nvs.layout, readFile });
  if (assets.keys) image = encryptNvsImage(image, assets.keys);
  return { image, sha256: createHash('sha256').update(image).digest('hex') };
}

export function buildUnitPlan(loaded: LoadedProfile, assets: ProductAssets, factoryNvs: Uint8Array): Promise<FlashPlan> {
  return buildWritePlan({
    partitionTable: assets.partitionTable,
    factoryNvs,
    flasherArgs: assets.flasherArgs,
    tableOffset: loaded.profile.firmware.tableOffset,
    expectedChip: loaded.profile.expectedChip,
  });
}
