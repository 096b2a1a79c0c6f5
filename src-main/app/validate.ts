// Runtime checks for everything the renderer sends. TypeScript types vanish at the IPC boundary,
// so each handler argument is checked here (plain Node, unit-tested) before it reaches a service.
import { DEMO_CHIPS, DEMO_FAULTS, PROFILE_FILE_KINDS, type AppSettings, type DemoChipKind, type DemoFault, type HistoryFilter, type LineQuery, type ProfileFileKind, type SlotConfig } from '../../shared/ipc.ts';
import { ATTEMPT_KINDS, ATTEMPT_OUTCOMES, UNIT_STATUSES, type AttemptQuery } from '../../shared/station/events.ts';
import { payloadFromScan } from '../../shared/station/scan.ts';

/** A renderer argument was refused. The message names the argument, never echoes secrets. */
export class ValidationError extends Error {
  constructor(readonly argument: string, detail: string) {
    super(`${argument}: ${detail}`);
    this.name = 'ValidationError';
  }
}

const fail = (arg: string, detail: string): never => {
  throw new ValidationError(arg, detail);
};

export function expectArgCount(args: readonly unknown[], min: number, max = min): void {
  if (!Array.isArray(args) || args.length < min || args.length > max) {
    fail('arguments', min === max ? `expected ${min}, got ${args?.length}` : `expected ${min} to ${max}, got ${args?.length}`);
  }
}

export function text(v: unknown, arg: string, opts: { max?: number; min?: number; pattern?: RegExp; hint?: string } = {}): string {
  const max = opts.max ?? 256;
  const min = opts.min ?? 1;
  if (typeof v !== 'string') return fail(arg, 'must be text');
  if (v.length < min || v.length > max) return fail(arg, `must be ${min} to ${max} characters long`);
  if (/[\u0000-\u001f\u007f]/.test(v)) return fail(arg, 'must not contain control characters');
  if (opts.pattern && !opts.pattern.test(v)) return fail(arg, opts.hint ?? 'has the wrong format');
  return v;
}

export function whole(v: unknown, arg: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return fail(arg, `must be a whole number from ${min} to ${max}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, arg: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) return fail(arg, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function plainObject(v: unknown, arg: string, allowedKeys?: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(arg, 'must be an object');
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return fail(arg, 'must be a plain object');
  if (allowedKeys) for (const k of Object.keys(v)) if (!allowedKeys.includes(k)) fail(`${arg}.${k}`, 'unknown field');
  return v as Record<string, unknown>;
}

/** A serial port path: a device path or a virtual chip path; the caller also checks it is listed. */
export function portPath(v: unknown, arg = 'port'): string {
  return text(v, arg, { max: 256, pattern: /^(virtual:[a-z0-9-]{1,40}|\/dev\/[A-Za-z0-9._/-]+|COM\d{1,3}|\\\\\.\\COM\d{1,3})$/, hint: 'is not a serial port path' });
}

export function unitId(v: unknown, arg = 'unitId'): number {
  return whole(v, arg, 1, Number.MAX_SAFE_INTEGER);
}

/** A profile file name inside the profiles folder: no folders, no traversal, always .json. */
export function profileFileName(v: unknown, arg = 'file'): string {
  return text(v, arg, { max: 100, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/, hint: 'must be a file name like my-product.json (letters, digits, . _ -)' });
}

export function pin(v: unknown, arg = 'pin'): string {
  return text(v, arg, { max: 12, min: 4, pattern: /^\d+$/, hint: 'must be 4 to 12 digits' });
}

export function pinOrNull(v: unknown, arg = 'pin'): string | null {
  return v === null ? null : pin(v, arg);
}

export function demoChip(v: unknown): DemoChipKind {
  return oneOf(v, 'chip', DEMO_CHIPS);
}

export function demoFault(v: unknown): DemoFault {
  return oneOf(v, 'fault', DEMO_FAULTS);
}

export function profileFileKind(v: unknown): ProfileFileKind {
  return oneOf(v, 'kind', PROFILE_FILE_KINDS);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** (Part of) a MAC in any common form: 24:0A:C4, 24-0a-c4, 240ac4, 240a.c4ff. */
const MAC_TEXT = { max: 17, pattern: /^[0-9A-Fa-f:.\- ]+$/, hint: 'must be (part of) a MAC address' };

/** A station name as the registry records it (host names, "Line 2 / bench 3"). */
export function stationName(v: unknown, arg = 'station'): string {
  return text(v, arg, { max: 128 });
}

function commonFilter(o: Record<string, unknown>, f: { mac?: string; setupId?: string; from?: string; to?: string; limit?: number; station?: string }): (k: string) => boolean {
  const present = (k: string) => o[k] !== undefined && o[k] !== '';
  if (present('station')) f.station = stationName(o.station, 'filter.station');
  if (present('mac')) f.mac = text(o.mac, 'filter.mac', MAC_TEXT);
  if (present('setupId')) f.setupId = text(o.setupId, 'filter.setupId', { max: 4, min: 4, pattern: /^[0-9A-Za-z]{4}$/, hint: 'must be 4 letters or digits' }).toUpperCase();
  if (present('from')) f.from = text(o.from, 'filter.from', { max: 10, pattern: ISO_DATE, hint: 'must be a date YYYY-MM-DD' });
  if (present('to')) f.to = text(o.to, 'filter.to', { max: 10, pattern: ISO_DATE, hint: 'must be a date YYYY-MM-DD' });
  if (present('limit')) f.limit = whole(o.limit, 'filter.limit', 1, 10_000);
  return present;
}

export function historyFilter(v: unknown): HistoryFilter {
  const o = plainObject(v, 'filter', ['mac', 'setupId', 'serial', 'status', 'payload', 'from', 'to', 'limit', 'station']);
  const f: HistoryFilter = {};
  const present = commonFilter(o, f);
  if (present('status')) f.status = oneOf(o.status, 'filter.status', UNIT_STATUSES);
  if (present('serial')) f.serial = text(o.serial, 'filter.serial', { max: 64, pattern: /^[A-Za-z0-9._/ -]+$/, hint: 'must be a serial number (letters, digits, . _ / - and space)' });
  if (present('payload')) {
    const payload = payloadFromScan(text(o.payload, 'filter.payload', { max: 64 }));
    f.payload = payload ?? fail('filter.payload', 'is not a HomeKit setup label (X-HM://…)');
  }
  return f;
}

export function attemptFilter(v: unknown): AttemptQuery {
  const o = plainObject(v, 'filter', ['mac', 'setupId', 'unitId', 'outcome', 'kind', 'from', 'to', 'limit', 'station']);
  const f: AttemptQuery = {};
  const present = commonFilter(o, f);
  if (present('unitId')) f.unitId = unitId(o.unitId, 'filter.unitId');
  if (present('outcome')) f.outcome = oneOf(o.outcome, 'filter.outcome', ATTEMPT_OUTCOMES);
  if (present('kind')) f.kind = oneOf(o.kind, 'filter.kind', ATTEMPT_KINDS);
  return f;
}

/** What a barcode scanner typed (one line; the station decides whether it is a label). */
export function scanText(v: unknown): string {
  return text(v, 'text', { max: 128 });
}

export function slotKey(v: unknown, arg = 'key'): string {
  return text(v, arg, { max: 300, pattern: /^(usb|path):\S+$/, hint: 'is not a slot key' });
}

export function slotList(v: unknown): SlotConfig[] {
  if (!Array.isArray(v) || v.length > 99) return fail('slots', 'must be a list of at most 99 slots');
  return v.map((item, i) => {
    const o = plainObject(item, `slots[${i}]`, ['key', 'slot', 'name']);
    const name = o.name === null || o.name === undefined || o.name === '' ? null : text(o.name, `slots[${i}].name`, { max: 24 });
    return { key: slotKey(o.key, `slots[${i}].key`), slot: whole(o.slot, `slots[${i}].slot`, 1, 99), name };
  });
}

/** The line's view: a station (or the whole line) and whole days. */
export function lineQuery(v: unknown): LineQuery {
  const o = plainObject(v, 'query', ['station', 'from', 'to']);
  const q: LineQuery = {};
  const present = (k: string) => o[k] !== undefined && o[k] !== '';
  if (present('station')) q.station = stationName(o.station, 'query.station');
  if (present('from')) q.from = text(o.from, 'query.from', { max: 10, pattern: ISO_DATE, hint: 'must be a date YYYY-MM-DD' });
  if (present('to')) q.to = text(o.to, 'query.to', { max: 10, pattern: ISO_DATE, hint: 'must be a date YYYY-MM-DD' });
  if (q.from && q.to && q.from > q.to) fail('query.from', 'must not be after query.to');
  return q;
}

/**
 * A production database location: an absolute file path or a postgres:// URL. Refusals never echo
 * the value (a URL may hold a password).
 */
export function databaseLocation(v: unknown): string {
  if (typeof v !== 'string') return fail('database', 'must be text');
  const value = v.trim();
  if (value.length < 1 || value.length > 1024) return fail('database', 'must be 1 to 1024 characters long');
  if (/[\u0000-\u001f\u007f]/.test(value)) return fail('database', 'must not contain control characters');
  if (/^postgres(ql)?:\/\//i.test(value)) return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return fail('database', 'must be a file path or a postgres:// URL');
  if (!/^(\/|[A-Za-z]:[\\/])/.test(value)) return fail('database', 'a file must be given by its full path (/srv/station/production.db)');
  return value;
}

export function settingsPatch(v: unknown): Partial<AppSettings> {
  const o = plainObject(v, 'settings', ['autoProvision', 'usePool', 'whenPoolEmpty']);
  const patch: Partial<AppSettings> = {};
  if (o.whenPoolEmpty !== undefined) patch.whenPoolEmpty = oneOf(o.whenPoolEmpty, 'settings.whenPoolEmpty', ['stop', 'fresh'] as const);
  for (const key of ['autoProvision', 'usePool'] as const) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== 'boolean') fail(`settings.${key}`, 'must be true or false');
    patch[key] = o[key] as boolean;
  }
  return patch;
}

/** Bounded JSON-like data (profile drafts, label specs): plain objects, arrays and primitives only. */
export function jsonData(v: unknown, arg: string, maxChars = 2_000_000): unknown {
  let serialized: string;
  try {
    serialized = JSON.stringify(v);
  } catch {
    return fail(arg, 'must be plain data');
  }
  if (serialized === undefined) return fail(arg, 'must be plain data');
  if (serialized.length > maxChars) return fail(arg, `is larger than ${maxChars} characters`);
  // A fresh copy: nothing the renderer sent (getters, prototypes) reaches the services.
  return JSON.parse(serialized);
}

export function printerName(v: unknown): string {
  return text(v, 'printer', { max: 256 });
}
