// Product profiles on disk: loading with clear errors, atomic saving, the engineer PIN, and the
// demo profile the app creates on first run (so the station works with virtual chips out of the box).
import { readInputFile, writeFileAtomic } from '../fs/index.ts';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { isPinHash, validateProfile, ProfileError, type ProductProfile } from '../../shared/station/profile.ts';
import { loadProductAssets, resolveProfilePath } from './image.ts';
import { jsonErrorPosition } from './json-position.ts';

export { resolveProfilePath } from './image.ts';

export interface LoadedProfile {
  profile: ProductProfile;
  path: string;
  /** Paths in the profile are relative to this directory. */
  baseDir: string;
}

/**
 * Reads and checks a profile and everything it references (partition table, flasher_args.json and
 * its images, keys file, custom data — with a test build of a unit's NVS image and write plan),
 * so a bad file is reported here, naming the field, before any identity is reserved or any file
 * (database, label, device) written. Errors never quote a referenced file's content.
 */
export async function loadProfile(path: string): Promise<LoadedProfile> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readInputFile(path));
  } catch {
    throw new ProfileError('', 'cannot read the profile file', path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProfileError('', `not valid JSON${jsonErrorPosition(text)}`, path);
  }
  const profile = validateProfile(json, path);
  const loaded = { profile, path: resolve(path), baseDir: dirname(resolve(path)) };
  const files: [string, string | undefined][] = [
    ['firmware.partitionTable', profile.firmware.partitionTable],
    ['firmware.flasherArgs', profile.firmware.flasherArgs],
    ['encryption.keysFile', profile.encryption?.keysFile],
    ['customData.csv', profile.customData?.csv],
  ];
  for (const [field, file] of files) {
    if (file !== undefined && !existsSync(resolveProfilePath(loaded, file))) throw new ProfileError(field, `file not found: ${file}`, path);
  }
  await loadProductAssets(loaded, path);
  return loaded;
}

export async function saveProfile(path: string, profile: ProductProfile): Promise<void> {
  validateProfile(profile, path);
  await writeFileAtomic(path, `${JSON.stringify(profile, null, 2)}\n`, 0o600);
}

const SCRYPT_N = 16384;

/** scrypt (async: off the main thread) as a promise. */
function scryptAsync(pin: string, salt: Uint8Array, length: number, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(pin, salt, length, { N: n, maxmem: 256 * n * 8 + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** scrypt with a random salt; stored as `scrypt$N$saltHex$hashHex`. */
export async function hashPin(pin: string): Promise<string> {
  if (!/^\d{4,12}$/.test(pin)) throw new Error('an engineer PIN is 4 to 12 digits');
  const salt = randomBytes(16);
  const hash = await scryptAsync(pin, salt, 32, SCRYPT_N);
  return `scrypt$${SCRYPT_N}$${salt.toString('hex')}$${hash.toString('hex')}`;
}

/**
 * Whether `pin` matches the stored hash (constant-time compare). Async: scrypt never blocks the
 * main process. A hash not in the form hashPin writes (or with an N out of range) matches nothing.
 */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  if (!isPinHash(stored)) return false;
  const [, n, saltHex, hashHex] = stored.split('$') as [string, string, string, string];
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scryptAsync(pin, Buffer.from(saltHex, 'hex'), expected.length, Number(n));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function isLocked(profile: ProductProfile): boolean {
  return profile.lock !== undefined;
}

/** The esp-homekit-sdk example partition table (factory_nvs at 0x340000). */
export const HOMEKIT_PARTITION_CSV = `# Name,   Type, SubType, Offset,  Size, Flags
sec_cert,  0x3F, ,0xd000,    0x3000, ,  # Never mark this as an encrypted partition
nvs,      data, nvs,     0x10000,   0x6000,
otadata,  data, ota,     ,          0x2000
phy_init, data, phy,     ,          0x1000,
ota_0,    app,  ota_0,   0x20000,   1600K,
ota_1,    app,  ota_1,   ,          1600K,
factory_nvs, data,   nvs,     0x340000,  0x6000
nvs_keys, data, nvs_keys,0x346000,  0x1000
`;

export const DEMO_PRODUCT_NAME = 'Demo Smart Plug';

/**
 * The demo product. `app`: the app's first-run profile, with serial numbers and a boot check (the
 * app's virtual boards run firmware that prints what the check needs); tests use the plain one.
 */
export function demoProfile(variant: 'plain' | 'app' = 'plain'): ProductProfile {
  const extra = variant === 'app'
    ? {
        serial: { format: 'PLUG-{counter}', digits: 6, nvs: { namespace: 'device', key: 'serial' } },
        bootCheck: { require: [`app_main: ${DEMO_PRODUCT_NAME}`], setupId: true, serial: true },
      }
    : {};
  return validateProfile({
    schema: 1,
    id: 'demo-smart-plug',
    productName: DEMO_PRODUCT_NAME,
    category: 7,
    flags: { ip: true, wac: true },
    nvs: { size: 0x6000, version: 2, layout: 'homekit' },
    firmware: { partitionTable: 'partitions_hap.csv' },
    verify: 'md5',
    label: { size: '40x30', showProductName: true, showMac: true, ...(variant === 'app' ? { showSerial: true } : {}) },
    printer: { mode: 'pdf' },
    ...extra,
  });
}

/** Writes the demo profile and its partition table into `dir` (if missing) and returns its path. */
export async function createDemoProfile(dir: string, variant: 'plain' | 'app' = 'plain'): Promise<string> {
  const path = join(dir, 'demo-profile.json');
  if (!existsSync(join(dir, 'partitions_hap.csv'))) await writeFileAtomic(join(dir, 'partitions_hap.csv'), HOMEKIT_PARTITION_CSV);
  if (!existsSync(path)) await saveProfile(path, demoProfile(variant));
  return path;
}
