// Product profile: what an engineer prepares once per product and an operator runs all shift.
// Validated by hand (no schema library needed for one document type); every error names the
// field path so a typo in a JSON file is found in seconds.
import { LABEL_PRESETS, validateLabelSpec, type LabelSpec } from '../label/index.ts';
import { checkLabelForPrinter, labelSpecForPrinter, validatePrinter, type PrinterSettings } from './printer.ts';
import { CHIP_IDS, type ChipId } from '../chips.ts';
import { validateBootCheck, type BootCheckProfile } from './boot-check.ts';
import { serialLabelText, validateSerialScheme, widestSerial, type SerialScheme } from './serial.ts';

/** A chip of the chip table (shared/chips.ts). */
export type StationChip = ChipId;

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
  /** Serial numbers: the scheme, and where the firmware reads them in the factory NVS (serial.ts). */
  serial?: SerialScheme;
  /** After the reset, the firmware's boot log is checked before the unit gets its label (boot-check.ts). */
  bootCheck?: BootCheckProfile;
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

/** The fields a profile may have, in the order the reference (docs/profile.md) lists them. */
export const PROFILE_FIELDS = ['$schema', 'description', 'schema', 'id', 'productName', 'category', 'flags', 'productData', 'nvs', 'encryption', 'customData', 'firmware', 'expectedChip', 'baud', 'verify', 'serial', 'bootCheck', 'label', 'printer', 'scanBack', 'lock'] as const;

/** What each object field looks like, for the message when it is something else. */
const OBJECT_EXAMPLES: Readonly<Record<string, string>> = {
  '': '{ "schema": 1, "id": "my-fan", "productName": "My Fan", "category": 3, "nvs": { "size": "0x6000" }, "firmware": { "partitionTable": "partitions.csv" }, "label": { "size": "40x30" } }',
  flags: '{ "ip": true, "ble": false, "wac": true }',
  nvs: '{ "size": "0x6000", "version": 2, "layout": "homekit" }',
  encryption: '{ "keysFile": "keys/nvs_keys.bin" }',
  customData: '{ "csv": "custom-data.csv" }',
  firmware: '{ "partitionTable": "partitions.csv", "flasherArgs": "build/flasher_args.json" }',
  label: '{ "size": "40x30", "showProductName": true, "showMac": true }',
  'label.size': '"40x30" or { "widthMm": 40, "heightMm": 30 }',
  'label.logo': '{ "dataUrl": "data:image/png;base64,…", "widthMm": 10, "heightMm": 5 }',
  printer: '{ "mode": "print", "name": "Zebra_ZD421" } or { "mode": "pdf" }',
  lock: '(set by the app: Settings → Engineer PIN)',
};

/**
 * A size or offset as the partition CSV writes it: a number, or text in decimal, 0x… hex or with a
 * K / M suffix ("0x6000", "24K", "24576"). Undefined when it is neither.
 */
export function parseProfileSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  const m = /^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)\s*([km])?$/i.exec(t);
  if (!m) return undefined;
  const base = Number(m[1]!.toLowerCase());
  if (!Number.isSafeInteger(base)) return undefined;
  const unit = m[2]?.toLowerCase() === 'k' ? 1024 : m[2]?.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  return base * unit;
}

/** Checks an untrusted JSON value and returns a typed profile; throws ProfileError naming the field. */
export function validateProfile(json: unknown, source = 'profile'): ProductProfile {
  const c = fieldChecks(source);
  const { fail, obj, str, int, bool, oneOf } = c;
  const p = obj(json, '');
  if (p.schema !== 1) fail('schema', 'must be 1');
  const id = str(p.id, 'id', 64);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) fail('id', 'must be a slug: lower-case letters, digits, ".", "_" or "-"');
  const productName = str(p.productName, 'productName', 64);
  const category = int(p.category, 'category', 1, 255);
  const flags = checkFlags(p.flags, c);
  let productData: string | undefined;
  if (p.productData !== undefined) {
    productData = str(p.productData, 'productData', 16);
    if (!/^[0-9a-fA-F]{16}$/.test(productData)) fail('productData', 'must be 16 hex digits');
  }
  const nvs = checkNvs(p.nvs, c);
  const { encryption, customData } = checkNvsFiles(p, c);
  const firmware = checkFirmware(p.firmware, c);

  const expectedChip = p.expectedChip === undefined ? undefined : oneOf(p.expectedChip, 'expectedChip', CHIP_IDS);
  const baud = p.baud === undefined ? undefined : oneOf(p.baud, 'baud', [115200, 230400, 460800, 921600, 1500000, 2000000] as const);
  const verify = p.verify === undefined ? undefined : oneOf(p.verify, 'verify', ['md5', 'readback'] as const);

  const serial = p.serial === undefined ? undefined : validateSerialScheme(p.serial, fail);
  const bootCheck = p.bootCheck === undefined ? undefined : validateBootCheck(p.bootCheck, fail, serial?.nvs.key);
  const printer = p.printer === undefined ? undefined : validatePrinter(p.printer, fail);
  const label = validateLabel(p.label, productName, printer, serial, fail, c);

  const scanBack = bool(p.scanBack, 'scanBack');
  const lock = p.lock === undefined ? undefined : checkLock(p.lock, c);

  for (const k of Object.keys(p)) if (!(PROFILE_FIELDS as readonly string[]).includes(k)) fail(k, `unknown field (allowed: ${PROFILE_FIELDS.join(', ')})`);

  return strip({ schema: 1, id, productName, category, flags, productData, nvs, encryption, customData, firmware, expectedChip, baud, verify, serial, bootCheck, label, printer, scanBack: scanBack || undefined, lock });
}

/** The checks of one validation: each returns the value it checked, or throws ProfileError naming the field. */
interface FieldChecks {
  fail: (path: string, detail: string) => never;
  obj: (v: unknown, path: string) => Obj;
  /** A size given as a number or as partition-CSV text ("0x6000", "24K"). */
  size: (v: unknown, path: string, min: number, max: number) => number;
  str: (v: unknown, path: string, max?: number) => string;
  int: (v: unknown, path: string, min: number, max: number) => number;
  bool: (v: unknown, path: string) => boolean | undefined;
  oneOf: <T extends string | number>(v: unknown, path: string, allowed: readonly T[]) => T;
  /** Every field of an object is one the profile knows: a typo is an error naming its path, never ignored. */
  only: (o: Obj, path: string, fields: readonly string[]) => Obj;
}

function fieldChecks(source: string): FieldChecks {
  const fail = (path: string, detail: string): never => {
    throw new ProfileError(path, detail, source);
  };
  return {
    fail,
    obj: (v, path) =>
      v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : fail(path, OBJECT_EXAMPLES[path] ? `must be an object like ${OBJECT_EXAMPLES[path]}` : 'must be an object'),
    size: (v, path, min, max) => {
      const n = parseProfileSize(v);
      return n !== undefined && n >= min && n <= max ? n : fail(path, `must be a size from 0x${min.toString(16)} to 0x${max.toString(16)} bytes: a number, or text like "0x6000" or "24K"`);
    },
    str: (v, path, max = 200) => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : fail(path, `must be a non-empty string of at most ${max} characters`)),
    int: (v, path, min, max) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : fail(path, `must be a whole number from ${min} to ${max}`)),
    bool: (v, path) => (v === undefined || typeof v === 'boolean' ? v : fail(path, 'must be true or false')),
    oneOf: <T extends string | number>(v: unknown, path: string, allowed: readonly T[]): T =>
      allowed.includes(v as T) ? (v as T) : fail(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`),
    only: (o, path, fields) => {
      for (const k of Object.keys(o)) if (!fields.includes(k)) fail(`${path}.${k}`, `unknown field (allowed: ${fields.join(', ')})`);
      return o;
    },
  };
}

/** The transports; without "flags", IP with WAC. */
function checkFlags(v: unknown, c: FieldChecks): ProductProfile['flags'] {
  const flagsIn = v === undefined ? { ip: true, wac: true } : c.obj(v, 'flags');
  for (const k of Object.keys(flagsIn)) if (!['ip', 'ble', 'wac'].includes(k)) c.fail(`flags.${k}`, 'unknown flag (allowed: ip, ble, wac)');
  const flags = { ip: c.bool(flagsIn.ip, 'flags.ip'), ble: c.bool(flagsIn.ble, 'flags.ble'), wac: c.bool(flagsIn.wac, 'flags.wac') };
  if (!flags.ip && !flags.ble) c.fail('flags', 'an accessory needs at least one transport: ip or ble');
  return flags;
}

function checkNvs(v: unknown, c: FieldChecks): ProductProfile['nvs'] {
  const nvsIn = c.only(c.obj(v, 'nvs'), 'nvs', ['size', 'version', 'layout']);
  const nvs = {
    size: c.size(nvsIn.size, 'nvs.size', 0x3000, 0x100000),
    version: c.oneOf(nvsIn.version ?? 2, 'nvs.version', [1, 2] as const),
    layout: c.oneOf(nvsIn.layout ?? 'homekit', 'nvs.layout', ['upstream', 'homekit'] as const),
  };
  if (nvs.size % 4096 !== 0) c.fail('nvs.size', 'must be a multiple of 4096 (0x1000)');
  return nvs;
}

/** The files that go into the NVS image besides the identity: the encryption keys and the custom data CSV. */
function checkNvsFiles(p: Obj, c: FieldChecks): Pick<ProductProfile, 'encryption' | 'customData'> {
  let encryption: ProductProfile['encryption'];
  if (p.encryption !== undefined) encryption = { keysFile: c.str(c.only(c.obj(p.encryption, 'encryption'), 'encryption', ['keysFile']).keysFile, 'encryption.keysFile', 1024) };
  let customData: ProductProfile['customData'];
  if (p.customData !== undefined) {
    const d = c.only(c.obj(p.customData, 'customData'), 'customData', ['csv']);
    customData = d.csv === undefined ? {} : { csv: c.str(d.csv, 'customData.csv', 1024) };
  }
  return { encryption, customData };
}

function checkFirmware(v: unknown, c: FieldChecks): ProductProfile['firmware'] {
  const fw = c.only(c.obj(v, 'firmware'), 'firmware', ['partitionTable', 'flasherArgs', 'tableOffset']);
  const firmware: ProductProfile['firmware'] = { partitionTable: c.str(fw.partitionTable, 'firmware.partitionTable', 1024) };
  if (fw.flasherArgs !== undefined) firmware.flasherArgs = c.str(fw.flasherArgs, 'firmware.flasherArgs', 1024);
  if (fw.tableOffset !== undefined) firmware.tableOffset = c.size(fw.tableOffset, 'firmware.tableOffset', 0x1000, 0xff0000);
  return firmware;
}

function checkLock(v: unknown, c: FieldChecks): ProductProfile['lock'] {
  const pinHash = c.str(c.only(c.obj(v, 'lock'), 'lock', ['pinHash']).pinHash, 'lock.pinHash', 512);
  // A malformed hash could never be matched: the profile would stay locked for good.
  if (!isPinHash(pinHash)) c.fail('lock.pinHash', 'must be an scrypt hash made by the station (scrypt$N$salt$hash, N a power of two from 2^10 to 2^20); set the PIN again in the app, or remove "lock"');
  return { pinHash };
}

const LABEL_SIZE_HINT = `must be one of ${Object.keys(LABEL_PRESETS).map((k) => JSON.stringify(k)).join(', ')} or { "widthMm": W, "heightMm": H } with W and H above 0, at most 300 mm`;

const LABEL_FIELDS = ['size', 'codeStyle', 'showProductName', 'showSerial', 'showMac', 'showUnit', 'logo', 'marginMm', 'minModuleMm', 'minCodeFontMm', 'maxCodeFontMm', 'textFontMm', 'errorCorrectionLevel', 'printerDpi'] as const;

/** `scrypt$N$saltHex$hashHex` as hashPin writes it; N a power of two in a range a station can compute. */
export function isPinHash(text: string): boolean {
  const m = /^scrypt\$(\d{1,8})\$([0-9a-f]{32,128})\$([0-9a-f]{32,128})$/.exec(text);
  if (!m) return false;
  const n = Number(m[1]);
  return n >= 1024 && n <= 1 << 20 && (n & (n - 1)) === 0 && m[2]!.length % 2 === 0 && m[3]!.length % 2 === 0;
}

function validateLabel(v: unknown, productName: string, printer: PrinterSettings | undefined, serial: SerialScheme | undefined, fail: (path: string, detail: string) => never, c: FieldChecks): LabelSpec {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('label', 'must be an object');
  // The unit line (unit number + bench slot) ties a printed label to its board: on unless turned off.
  const spec = { ...c.only(v as Obj, 'label', LABEL_FIELDS) } as LabelSpec & Obj;
  if (spec.showUnit === undefined) spec.showUnit = true;
  const num = (key: string, min: number, max: number) => {
    const x = spec[key];
    if (x !== undefined && !(typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max)) fail(`label.${key}`, `must be a number from ${min} to ${max}`);
  };
  for (const key of ['showProductName', 'showSerial', 'showMac', 'showUnit'] as const) c.bool(spec[key], `label.${key}`);
  // Without a serial scheme no unit has a serial number: a serial line would fail on the first unit
  // (after its identity was reserved). Refused now.
  if (spec.showSerial && !serial) fail('label.showSerial', 'needs serial numbers: add a "serial" scheme to the profile, or remove showSerial');
  if (spec.codeStyle !== undefined) c.oneOf(spec.codeStyle, 'label.codeStyle', ['dashed', 'groups-of-four'] as const);
  if (spec.errorCorrectionLevel !== undefined) c.oneOf(spec.errorCorrectionLevel, 'label.errorCorrectionLevel', ['L', 'M', 'Q', 'H'] as const);
  num('marginMm', 0, 50);
  num('minModuleMm', 0.05, 10);
  num('minCodeFontMm', 0.5, 50);
  num('maxCodeFontMm', 0.5, 50);
  num('textFontMm', 0.5, 50);
  num('printerDpi', 72, 4800);
  if (typeof spec.size === 'object' && spec.size !== null) c.only(spec.size as unknown as Obj, 'label.size', ['widthMm', 'heightMm']);
  if (spec.logo !== undefined) {
    const logo = c.only(c.obj(spec.logo, 'label.logo'), 'label.logo', ['dataUrl', 'widthMm', 'heightMm']);
    if (typeof logo.dataUrl !== 'string' || logo.dataUrl.length > 2_000_000) fail('label.logo.dataUrl', 'must be a data: URL of at most 2 000 000 characters');
    for (const key of ['widthMm', 'heightMm'] as const) {
      const x = logo[key];
      if (!(typeof x === 'number' && Number.isFinite(x) && x > 0 && x <= 300)) fail(`label.logo.${key}`, 'must be a number above 0, at most 300');
    }
  }
  const size = spec.size;
  if (typeof size === 'string') {
    if (!Object.hasOwn(LABEL_PRESETS, size)) fail('label.size', LABEL_SIZE_HINT);
  } else if (!size || typeof size !== 'object' || !(size.widthMm > 0 && size.widthMm <= 300) || !(size.heightMm > 0 && size.heightMm <= 300)) {
    fail('label.size', LABEL_SIZE_HINT);
  }
  checkLabelForPrinter(spec, printer, fail);
  // Worst-case sample text: overflow is an error now, at profile time, never a clipped print.
  let problems: string[];
  try {
    // The widest serial number the scheme can make: a label that fits it fits every unit's.
    problems = validateLabelSpec(labelSpecForPrinter(spec, printer), { productName, serial: serialLabelText(serial ? widestSerial(serial) : '0000000000'), mac: 'DD:DD:DD:DD:DD:DD' });
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
