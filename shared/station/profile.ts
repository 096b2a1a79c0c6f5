// Product profile: what an engineer prepares once per product and an operator runs all shift.
// Validated by hand (no schema library needed for one document type); every error names the
// field path so a typo in a JSON file is found in seconds.
import { LABEL_PRESETS, validateLabelSpec, type LabelSpec } from '../label/index.ts';
import { checkLabelForPrinter, labelSpecForPrinter, validatePrinter, type PrinterSettings } from './printer.ts';

export type StationChip = 'esp32' | 'esp32s3' | 'esp32c3';

export interface ProductProfile {
  schema: 1;
  /** Short slug; the database keys units by it, so codes are unique per product. */
  id: string;
  productName: string;
  /** HomeKit accessory category identifier (1 = other, 5 = lightbulb, 7 = outlet, 8 = switch …). */
  category: number;
  flags: { ip?: boolean; ble?: boolean; wac?: boolean };
  /** 16 hex digits from the MFi portal (optional). */
  productData?: string;
  nvs: { size: number; version: 1 | 2; layout: 'upstream' | 'homekit' };
  /** NVS encryption: keys partition file (4096-byte nvs_keys image). */
  encryption?: { keysFile: string };
  /** Constant custom NVS rows merged before hap_setup (CSV in nvs_partition_gen format). */
  customData?: { csv?: string };
  firmware: { partitionTable: string; flasherArgs?: string; tableOffset?: number };
  expectedChip?: StationChip;
  baud?: number;
  verify?: 'md5' | 'readback';
  label: LabelSpec;
  /** System printer, PDF, or a ZPL label printer on the network (see printer.ts). */
  printer?: PrinterSettings;
  /**
   * Scan-back: after printing, the operator scans the label's QR on the unit's tile (a USB barcode
   * scanner types it); the unit is done only when the scan matches its own unit.
   */
  scanBack?: boolean;
  /** Engineer PIN lock: an scrypt hash; while set, operators cannot change the profile. */
  lock?: { pinHash: string };
}

export class ProfileError extends Error {
  constructor(
    readonly path: string,
    detail: string,
    readonly source = 'profile',
  ) {
    super(`${source}: ${path ? `${path}: ` : ''}${detail}`);
    this.name = 'ProfileError';
  }
}

type Obj = Record<string, unknown>;

/** Checks an untrusted JSON value and returns a typed profile; throws ProfileError naming the field. */
export function validateProfile(json: unknown, source = 'profile'): ProductProfile {
  const fail = (path: string, detail: string): never => {
    throw new ProfileError(path, detail, source);
  };
  const obj = (v: unknown, path: string): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : fail(path, 'must be an object'));
  const str = (v: unknown, path: string, max = 200): string =>
    typeof v === 'string' && v.length > 0 && v.length <= max ? v : fail(path, `must be a non-empty string of at most ${max} characters`);
  const int = (v: unknown, path: string, min: number, max: number): number =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(path, `must be a whole number from ${min} to ${max}`);
  const bool = (v: unknown, path: string): boolean | undefined => (v === undefined || typeof v === 'boolean' ? v : fail(path, 'must be true or false'));
  const oneOf = <T extends string | number>(v: unknown, path: string, allowed: readonly T[]): T =>
    allowed.includes(v as T) ? (v as T) : fail(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);

  const p = obj(json, '');
  if (p.schema !== 1) fail('schema', 'must be 1');
  const id = str(p.id, 'id', 64);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) fail('id', 'must be a slug: lower-case letters, digits, ".", "_" or "-"');
  const productName = str(p.productName, 'productName', 64);
  const category = int(p.category, 'category', 1, 255);

  const flagsIn = p.flags === undefined ? { ip: true, wac: true } : obj(p.flags, 'flags');
  for (const k of Object.keys(flagsIn)) if (!['ip', 'ble', 'wac'].includes(k)) fail(`flags.${k}`, 'unknown flag (allowed: ip, ble, wac)');
  const flags = { ip: bool(flagsIn.ip, 'flags.ip'), ble: bool(flagsIn.ble, 'flags.ble'), wac: bool(flagsIn.wac, 'flags.wac') };
  if (!flags.ip && !flags.ble) fail('flags', 'an accessory needs at least one transport: ip or ble');

  let productData: string | undefined;
  if (p.productData !== undefined) {
    productData = str(p.productData, 'productData', 16);
    if (!/^[0-9a-fA-F]{16}$/.test(productData)) fail('productData', 'must be 16 hex digits');
  }

  const nvsIn = obj(p.nvs, 'nvs');
  const nvs = {
    size: int(nvsIn.size, 'nvs.size', 0x3000, 0x100000),
    version: oneOf(nvsIn.version ?? 2, 'nvs.version', [1, 2] as const),
    layout: oneOf(nvsIn.layout ?? 'homekit', 'nvs.layout', ['upstream', 'homekit'] as const),
  };
  if (nvs.size % 4096 !== 0) fail('nvs.size', 'must be a multiple of 4096 (0x1000)');

  let encryption: ProductProfile['encryption'];
  if (p.encryption !== undefined) encryption = { keysFile: str(obj(p.encryption, 'encryption').keysFile, 'encryption.keysFile', 1024) };
  let customData: ProductProfile['customData'];
  if (p.customData !== undefined) {
    const c = obj(p.customData, 'customData');
    customData = c.csv === undefined ? {} : { csv: str(c.csv, 'customData.csv', 1024) };
  }

  const fw = obj(p.firmware, 'firmware');
  const firmware: ProductProfile['firmware'] = { partitionTable: str(fw.partitionTable, 'firmware.partitionTable', 1024) };
  if (fw.flasherArgs !== undefined) firmware.flasherArgs = str(fw.flasherArgs, 'firmware.flasherArgs', 1024);
  if (fw.tableOffset !== undefined) firmware.tableOffset = int(fw.tableOffset, 'firmware.tableOffset', 0x1000, 0xff0000);

  const expectedChip = p.expectedChip === undefined ? undefined : oneOf(p.expectedChip, 'expectedChip', ['esp32', 'esp32s3', 'esp32c3'] as const);
  const baud = p.baud === undefined ? undefined : oneOf(p.baud, 'baud', [115200, 230400, 460800, 921600, 1500000, 2000000] as const);
  const verify = p.verify === undefined ? undefined : oneOf(p.verify, 'verify', ['md5', 'readback'] as const);

  const printer = p.printer === undefined ? undefined : validatePrinter(p.printer, fail);
  const label = validateLabel(p.label, productName, printer, fail);

  const scanBack = bool(p.scanBack, 'scanBack');
  let lock: ProductProfile['lock'];
  if (p.lock !== undefined) lock = { pinHash: str(obj(p.lock, 'lock').pinHash, 'lock.pinHash', 512) };

  const known = new Set(['schema', 'id', 'productName', 'category', 'flags', 'productData', 'nvs', 'encryption', 'customData', 'firmware', 'expectedChip', 'baud', 'verify', 'label', 'printer', 'scanBack', 'lock', '$schema', 'description']);
  for (const k of Object.keys(p)) if (!known.has(k)) fail(k, 'unknown field');

  return strip({ schema: 1, id, productName, category, flags, productData, nvs, encryption, customData, firmware, expectedChip, baud, verify, label, printer, scanBack: scanBack || undefined, lock });
}

function validateLabel(v: unknown, productName: string, printer: PrinterSettings | undefined, fail: (path: string, detail: string) => never): LabelSpec {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('label', 'must be an object');
  // The unit line (unit number + bench slot) ties a printed label to its board: on unless turned off.
  const spec = { ...(v as LabelSpec) };
  if (spec.showUnit === undefined) spec.showUnit = true;
  else if (typeof spec.showUnit !== 'boolean') fail('label.showUnit', 'must be true or false');
  const size = spec.size;
  if (typeof size === 'string') {
    if (!Object.hasOwn(LABEL_PRESETS, size)) fail('label.size', `must be one of ${Object.keys(LABEL_PRESETS).join(', ')} or { widthMm, heightMm }`);
  } else if (!size || typeof size !== 'object' || !(size.widthMm > 0 && size.widthMm <= 300) || !(size.heightMm > 0 && size.heightMm <= 300)) {
    fail('label.size', 'must be a preset name or { widthMm, heightMm } between 0 and 300 mm');
  }
  checkLabelForPrinter(spec, printer, fail);
  // Worst-case sample text: overflow is an error now, at profile time, never a clipped print.
  let problems: string[];
  try {
    problems = validateLabelSpec(labelSpecForPrinter(spec, printer), { productName, serial: 'SN 0000000000', mac: 'DD:DD:DD:DD:DD:DD' });
  } catch (err) {
    problems = [(err as Error).message];
  }
  if (problems.length > 0) {
    const hint = spec.showUnit ? ' (the unit line can be turned off with "showUnit": false)' : '';
    fail('label', problems.join('; ') + hint);
  }
  return spec;
}

/** Drops undefined members so a saved profile has no noise. */
function strip<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}
