// One unit's flash content: its factory NVS image (hap_setup + the product's constant custom data +
// the unit's serial number, encrypted when the profile says so) and the write plan (partition
// table + NVS + firmware). The one builder of a unit's factory image.
//
// loadProductAssets reads AND checks everything a profile references, including a test build of a
// unit's image and write plan with a stand-in identity of the real sizes: a profile that cannot
// make a unit is refused when it is loaded (and before each run's reservation), never after an
// identity was reserved. Errors name the profile field and never quote a referenced file's content.
import { TextDecoder } from 'node:util';
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readInputFile, readInputFileSync, describeFsError } from '../fs/index.ts';
import { buildFactoryCsv, checkFactoryCustomData } from '../../shared/homekit/factory-csv.ts';
import { generateNvsImageFromRows, parseNvsCsv, NvsInputError } from '../../shared/nvs/writer.ts';
import { encryptNvsImage } from '../../shared/nvs/encryption.ts';
import { NvsKeysError, parseKeysFile } from '../../shared/nvs/keys.ts';
import { ProfileError } from '../../shared/station/profile.ts';
import { widestSerial } from '../../shared/station/serial.ts';
import { SRP_SALT_LENGTH, SRP_VERIFIER_LENGTH } from '../../shared/homekit/srp.ts';
import { buildWritePlan, FlashError, type FlashPlan } from '../flash/index.ts';
import { jsonErrorPosition } from './json-position.ts';
import type { LoadedProfile } from './profile-file.ts';

export interface UnitIdentityData {
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  /** The unit's serial number (products with a serial scheme). */
  serial?: string | null;
}

/** Product-wide inputs, read once per station session rather than per unit. */
export interface ProductAssets {
  partitionTable: Uint8Array;
  customCsv?: string;
  /** The custom CSV as the profile names it (errors say "app.csv line 3, key …"). */
  customCsvSource?: string;
  /** `file`-type rows of the custom CSV are relative to the CSV's folder (as with nvs_partition_gen.py's cwd). */
  customCsvDir?: string;
  keys?: ReturnType<typeof parseKeysFile>;
  flasherArgs?: { json: unknown; baseDir: string };
}

export function resolveProfilePath(loaded: Pick<LoadedProfile, 'baseDir'>, p: string): string {
  return isAbsolute(p) ? p : resolve(loaded.baseDir, p);
}

/** A stand-in identity of the real sizes (the widest serial number): the test build makes an image as large as any unit's. */
function standIn(loaded: LoadedProfile): UnitIdentityData {
  const serial = loaded.profile.serial ? widestSerial(loaded.profile.serial) : null;
  return { setupId: 'ZZZZ', salt: new Uint8Array(SRP_SALT_LENGTH), verifier: new Uint8Array(SRP_VERIFIER_LENGTH), serial };
}

/**
 * An error about a file the profile references, without any of the file's content: quoted text in
 * a parser's message ("header is "…"") becomes "…", and the message is kept short.
 */
export function withoutFileContent(message: string): string {
  const text = message.replace(/"(?:[^"\\\n]|\\.)*"/g, '"…"');
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

/**
 * Reads and checks everything the profile references; see the file comment. Throws ProfileError
 * naming the field (source: `source`, default the profile's path).
 */
export async function loadProductAssets(loaded: LoadedProfile, source: string = loaded.path): Promise<ProductAssets> {
  const fail: FailField = (field, detail) => {
    throw new ProfileError(field, withoutFileContent(detail), source);
  };
  const read = fieldFileReader(loaded, fail);
  const assets = await readProductFiles(loaded, read, fail);
  await testBuild(loaded, assets, fail);
  return assets;
}

/** Throws the ProfileError naming a profile field. */
type FailField = (field: string, detail: string) => never;
/** Reads a file a profile field names; a file that cannot be read is that field's error. */
type ReadFieldFile = (field: string, file: string) => Promise<Uint8Array>;

function fieldFileReader(loaded: LoadedProfile, fail: FailField): ReadFieldFile {
  return async (field, file) => {
    try {
      return await readInputFile(resolveProfilePath(loaded, file));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return fail(field, `${file}: cannot read it (${typeof code === 'string' ? describeFsError(code) : 'error'})`);
    }
  };
}

/** Every file the profile references, each read and checked on its own: table, custom data, keys, flasher args. */
async function readProductFiles(loaded: LoadedProfile, read: ReadFieldFile, fail: FailField): Promise<ProductAssets> {
  const p = loaded.profile;
  const assets: ProductAssets = { partitionTable: await read('firmware.partitionTable', p.firmware.partitionTable) };
  if (p.customData?.csv) {
    const file = p.customData.csv;
    const csvPath = resolveProfilePath(loaded, file);
    assets.customCsv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await read('customData.csv', file)); // BOM kept, as nvs_partition_gen.py reads it
    assets.customCsvSource = file;
    assets.customCsvDir = dirname(csvPath);
    try {
      checkFactoryCustomData(assets.customCsv, file, p.nvs.layout, p.serial?.nvs);
    } catch (err) {
      if (err instanceof NvsInputError) fail('customData.csv', err.message);
      throw err;
    }
  }
  if (p.encryption) {
    try {
      assets.keys = parseKeysFile(await read('encryption.keysFile', p.encryption.keysFile));
    } catch (err) {
      if (err instanceof NvsKeysError) fail('encryption.keysFile', `${p.encryption.keysFile}: ${err.message}`);
      throw err;
    }
  }
  if (p.firmware.flasherArgs) {
    const file = p.firmware.flasherArgs;
    const text = new TextDecoder().decode(await read('firmware.flasherArgs', file));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      fail('firmware.flasherArgs', `${file}: not valid JSON${jsonErrorPosition(text)}`);
    }
    assets.flasherArgs = { json, baseDir: dirname(resolveProfilePath(loaded, file)) };
  }
  return assets;
}

/** The test build: everything a unit's image and write plan need, with a stand-in identity; a failure names the field to fix. */
async function testBuild(loaded: LoadedProfile, assets: ProductAssets, fail: FailField): Promise<void> {
  let image: Uint8Array;
  try {
    image = buildUnitNvsImage(loaded, assets, standIn(loaded)).image;
  } catch (err) {
    if (!(err instanceof NvsInputError)) throw err;
    const customLines = assets.customCsv?.split(/\r\n?|\n/).length ?? 0;
    const inCustom = assets.customCsv !== undefined && err.line !== undefined && err.line <= customLines && !/too small|does not fit|no room/i.test(err.detail);
    return fail(inCustom ? 'customData.csv' : 'nvs.size', inCustom ? err.message : `a unit's factory NVS image does not fit ${loaded.profile.nvs.size} bytes: ${err.detail}`);
  }
  try {
    await buildUnitPlan(loaded, assets, image);
  } catch (err) {
    if (!(err instanceof FlashError)) throw err;
    const field = /flasher_args/.test(err.message)
      ? 'firmware.flasherArgs'
      : err.code === 'wrong-chip'
        ? 'expectedChip'
        : err.code === 'image-too-large' && /factory NVS/.test(err.message)
          ? 'nvs.size'
          : 'firmware.partitionTable';
    fail(field, err.message);
  }
}

/** The unit's factory NVS image (encrypted when the profile has a keys file) and its SHA-256 (recorded in the DB). */
export function buildUnitNvsImage(loaded: LoadedProfile, assets: ProductAssets, identity: UnitIdentityData): { image: Uint8Array; sha256: string } {
  const p = loaded.profile;
  const serial = p.serial && identity.serial ? { ...p.serial.nvs, value: identity.serial } : undefined;
  const csv = buildFactoryCsv({ setupId: identity.setupId, salt: identity.salt, verifier: identity.verifier, customCsv: assets.customCsv, serial });
  const baseDir = assets.customCsvDir ?? loaded.baseDir;
  const readFile = (path: string) => readInputFileSync(isAbsolute(path) ? path : resolve(baseDir, path));
  // Strict (the default): a key twice in a namespace, a namespace declared again … are refused,
  // so custom data can never override the identity keys appended after it.
  const rows = parseNvsCsv(csv, assets.customCsvSource !== undefined ? { source: assets.customCsvSource } : {});
  let image = generateNvsImageFromRows(rows, { size: p.nvs.size, version: p.nvs.version, layout: p.nvs.layout, readFile });
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
