// Serial numbers: the product's scheme (profile field `serial`), its validation, and how a serial
// number is written out. Issuing — the per-product counter, unique and never reused — is the
// database's (src-main/registry/serials.ts), in the transaction that reserves the unit's identity;
// the offline batch takes a block of the same counter.
//
// `format` is text with parts in braces:
//   {counter}  the product's counter, zero-padded to `digits` (issuing stops when it would not fit)
//   {mac}      the unit's MAC, 12 upper-case hex digits (derived, no counter: not for the batch)
//   {yyyy} {yy} {mm} {dd} {ww}  the date the serial was issued (station's local time; ww = ISO week)
//   {line}     the profile's `line`        {station}  the station's name (A–Z, 0–9, at most 8)
// Exactly one of {counter} and {mac} makes it unique. Other characters: letters, digits, and . _ / -
// and space (a serial goes into CSV files, NVS and labels as it is).

export interface SerialScheme {
  format: string;
  /** Zero-padded width of {counter}. */
  digits: number;
  /** The counter's first value for a product. */
  start: number;
  /** Value of {line}. */
  line?: string;
  /** Where the firmware finds it in the factory NVS (type string). */
  nvs: { namespace: string; key: string };
}

export const SERIAL_FIELDS = ['format', 'digits', 'start', 'line', 'nvs'] as const;
const PARTS = ['counter', 'mac', 'yyyy', 'yy', 'mm', 'dd', 'ww', 'line', 'station'] as const;
type Part = (typeof PARTS)[number];
/** HAP's SerialNumber characteristic holds at most 64 characters. */
export const SERIAL_MAX_LENGTH = 64;
const LITERAL = /^[A-Za-z0-9._/ -]*$/;
const NVS_NAME = /^[A-Za-z0-9_]{1,15}$/;
/** hap_setup keys the station writes (or never writes): a serial cannot take their place. */
const RESERVED_HAP_KEYS = ['setup_id', 'setup_salt', 'setup_verifier', 'setup_code'];

type Fail = (path: string, detail: string) => never;

/** Splits a format into literal text and parts; throws a message for the first problem. */
function tokens(format: string): (string | { part: Part })[] {
  const out: (string | { part: Part })[] = [];
  const re = /\{([^{}]*)\}|([^{}]+)|([{}])/g;
  for (const m of format.matchAll(re)) {
    if (m[3]) throw new Error(`a lone "${m[3]}"`);
    if (m[2] !== undefined) {
      if (!LITERAL.test(m[2])) throw new Error(`"${m[2]}": only letters, digits, . _ / - and space outside the {parts}`);
      out.push(m[2]);
    } else if ((PARTS as readonly string[]).includes(m[1]!)) out.push({ part: m[1] as Part });
    else throw new Error(`unknown part {${m[1]}} (use ${PARTS.map((p) => `{${p}}`).join(', ')})`);
  }
  return out;
}

/** Checks the profile's `serial` (paths as `serial.nvs.key`). */
export function validateSerialScheme(v: unknown, fail: Fail): SerialScheme {
  const o = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail('serial', 'must be an object like { "format": "FAN-{counter}", "digits": 6, "nvs": { "namespace": "device", "key": "serial" } }');
  for (const k of Object.keys(o)) if (!(SERIAL_FIELDS as readonly string[]).includes(k)) fail(`serial.${k}`, `unknown field (allowed: ${SERIAL_FIELDS.join(', ')})`);
  if (typeof o.format !== 'string' || o.format.length === 0 || o.format.length > SERIAL_MAX_LENGTH) fail('serial.format', `must be a text of 1 to ${SERIAL_MAX_LENGTH} characters`);
  let parts: (string | { part: Part })[];
  try {
    parts = tokens(o.format as string);
  } catch (err) {
    return fail('serial.format', (err as Error).message);
  }
  const has = (p: Part) => parts.some((t) => typeof t !== 'string' && t.part === p);
  if (has('counter') === has('mac')) fail('serial.format', 'needs exactly one of {counter} (numbered per product) and {mac} (derived from the MAC): that part makes it unique');
  const int = (key: string, def: number, min: number, max: number) => {
    const x = o[key] ?? def;
    return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max ? x : fail(`serial.${key}`, `must be a whole number from ${min} to ${max}`);
  };
  const digits = int('digits', 6, 1, 12);
  const start = int('start', 1, 0, 10 ** digits - 1);
  const scheme: SerialScheme = { format: o.format as string, digits, start, nvs: validateNvs(o.nvs, fail) };
  if (o.line !== undefined) {
    if (typeof o.line !== 'string' || !/^[A-Za-z0-9]{1,8}$/.test(o.line)) fail('serial.line', 'must be 1 to 8 letters or digits');
    scheme.line = o.line;
  }
  if (has('line') && scheme.line === undefined) fail('serial.line', 'is needed: the format has {line}');
  const widest = widestSerial(scheme);
  if (widest.length > SERIAL_MAX_LENGTH) fail('serial.format', `makes serial numbers of up to ${widest.length} characters; HomeKit allows ${SERIAL_MAX_LENGTH}`);
  return scheme;
}

function validateNvs(v: unknown, fail: Fail): SerialScheme['nvs'] {
  const o = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail('serial.nvs', 'must be an object like { "namespace": "device", "key": "serial" }: where the firmware reads the serial number');
  for (const k of Object.keys(o)) if (k !== 'namespace' && k !== 'key') fail(`serial.nvs.${k}`, 'unknown field (allowed: namespace, key)');
  for (const k of ['namespace', 'key'] as const) {
    if (typeof o[k] !== 'string' || !NVS_NAME.test(o[k] as string)) fail(`serial.nvs.${k}`, 'must be 1 to 15 letters, digits or _ (an NVS name)');
  }
  if (o.namespace === 'hap_setup' && RESERVED_HAP_KEYS.includes(o.key as string)) fail('serial.nvs.key', `hap_setup/${String(o.key)} is the unit's HomeKit identity: choose another key`);
  return { namespace: o.namespace as string, key: o.key as string };
}

/** The scheme gives every unit its own number from the product's counter (else it derives it from the MAC). */
export function usesCounter(scheme: SerialScheme): boolean {
  return tokens(scheme.format).some((t) => typeof t !== 'string' && t.part === 'counter');
}

/** The station's name as {station} shows it: A–Z and 0–9 only, upper case, at most 8. */
export function stationCode(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 8);
}

export interface SerialValues {
  /** The counter value ({counter} schemes). */
  counter?: number;
  /** Lower-case colon form or any 12 hex digits ({mac} schemes). */
  mac?: string;
  /** When it is issued (the date parts; local time). */
  date: Date;
  station: string;
}

/** The serial number for these values. Throws when the counter no longer fits `digits`. */
export function formatSerial(scheme: SerialScheme, values: SerialValues): string {
  const d = values.date;
  const two = (n: number) => String(n).padStart(2, '0');
  const part = (p: Part): string => {
    switch (p) {
      case 'counter': {
        const n = values.counter;
        if (n === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error('a counter value is needed');
        const text = String(n).padStart(scheme.digits, '0');
        if (text.length > scheme.digits) throw new SerialExhaustedError(scheme);
        return text;
      }
      case 'mac': {
        const hex = (values.mac ?? '').replace(/[^0-9a-fA-F]/g, '').toUpperCase();
        if (hex.length !== 12) throw new Error('a MAC address is needed');
        return hex;
      }
      case 'yyyy': return String(d.getFullYear());
      case 'yy': return two(d.getFullYear() % 100);
      case 'mm': return two(d.getMonth() + 1);
      case 'dd': return two(d.getDate());
      case 'ww': return two(isoWeek(d));
      case 'line': return scheme.line ?? '';
      case 'station': return stationCode(values.station);
    }
  };
  return tokens(scheme.format).map((t) => (typeof t === 'string' ? t : part(t.part))).join('');
}

/** The widest serial number the scheme can make (label layout is checked with it). */
export function widestSerial(scheme: SerialScheme): string {
  const wide: Record<Part, string> = {
    counter: '8'.repeat(scheme.digits), mac: 'D'.repeat(12), yyyy: '8888', yy: '88', mm: '88', dd: '88', ww: '88', line: scheme.line ?? 'WWWWWWWW', station: 'W'.repeat(8),
  };
  return tokens(scheme.format).map((t) => (typeof t === 'string' ? t : wide[t.part])).join('');
}

/** What the label prints for a serial number. */
export function serialLabelText(serial: string): string {
  return `SN ${serial}`;
}

export class SerialExhaustedError extends Error {
  constructor(scheme: SerialScheme) {
    super(`serial numbers of this product are used up: {counter} has ${scheme.digits} digits (raise serial.digits in the profile; numbers are never reused)`);
    this.name = 'SerialExhaustedError';
  }
}

/** ISO 8601 week number (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeek(date: Date): number {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return Math.ceil(((d.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
}
