// The boot check: after a unit is flashed, verified and reset, its firmware's boot log is matched
// against the product's patterns — lines it must print (its version, that it read its factory
// partition), lines it must never print (a panic, a brownout, abort()), optionally the setup ID
// (and serial number) it read, which must be the ones just issued. Pure: the profile part
// (`bootCheck`), its validation, and the matcher the pipeline feeds the received text to
// (src-main/station/boot-check.ts listens on the port).
//
// A pattern is plain text (found anywhere in a line, case-sensitive) or `{ "regex": "…" }`
// (JavaScript syntax, optional "flags": "i"). Lines are matched without ESP-IDF's colour codes.

/** A pattern as the profile writes it: plain text, or a regular expression. */
export type TextPattern = string | { regex: string; flags?: string };

/** The profile's `bootCheck`, as written (validated; defaults applied by resolveBootCheck). */
export interface BootCheckProfile {
  timeoutSeconds?: number;
  baud?: number;
  require?: TextPattern[];
  forbid?: TextPattern[];
  setupId?: boolean | { regex: string; flags?: string };
  serial?: boolean | { regex: string; flags?: string };
  settleSeconds?: number;
}

/** What the check runs with: the profile's part with every default filled in. */
export interface BootCheckSettings {
  /** Listen this long for the required lines (seconds). */
  timeoutSeconds: number;
  /** The firmware console's rate (the host switches to it before the reset). */
  baud: number;
  require: TextPattern[];
  forbid: TextPattern[];
  /** The firmware prints the setup ID it read (first capture group); it must be the unit's. */
  setupId?: TextPattern;
  /** The firmware prints the serial number it read (first capture group); it must be the unit's. */
  serial?: TextPattern;
  /** After everything required was seen, keep listening this long for a late crash (seconds). */
  settleSeconds: number;
}

/** ESP-IDF's words for a firmware that is not well: panics, resets, aborts, watchdogs, brownouts. */
export const DEFAULT_FORBIDDEN: readonly string[] = [
  'Guru Meditation Error',
  'abort() was called',
  'assert failed',
  'Brownout detector was triggered',
  'stack overflow',
  'Task watchdog got triggered',
  'Rebooting...',
];
export const DEFAULT_SETUP_ID_PATTERN: TextPattern = { regex: 'setup[_ ]?id\\s*[:=]\\s*([0-9A-Za-z]{4})\\b', flags: 'i' };
export const DEFAULT_SERIAL_PATTERN: TextPattern = { regex: 'serial(?:[_ ]?(?:number|no))?\\s*[:=]\\s*(\\S+)', flags: 'i' };

/** `serial: true`: "serial number: X", "serial = X", or the scheme's NVS key as the firmware names it ("sn = X"). */
export function defaultSerialPattern(nvsKey: string): TextPattern {
  return { regex: `(?:\\bserial(?:[_ ]?(?:number|no))?|\\b${nvsKey})\\s*[:=]\\s*(\\S+)`, flags: 'i' };
}
export const BOOT_CHECK_FIELDS = ['timeoutSeconds', 'baud', 'require', 'forbid', 'setupId', 'serial', 'settleSeconds'] as const;
const BAUDS = [9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600, 1500000, 2000000] as const;
const MAX_LINE = 1000;
/** What the ROM itself prints before any bootloader or app (ESP32 `ets …`, newer `ESP-ROM:` banners). */
const ROM_LINE = /^(?:ets |ESP-ROM:|Build:|rst:0x|configsip:|clk_drv:|SPIWP:|mode:|load:0x|entry 0x|ho \d|Saved PC:)/;
/** The log kept with an attempt: its last this-many characters. */
export const BOOT_LOG_LIMIT = 8000;

type Fail = (path: string, detail: string) => never;

/** The settings a check runs with: the profile's `bootCheck` with its defaults (`serialKey`: the scheme's NVS key). */
export function resolveBootCheck(p: BootCheckProfile, serialKey: string | undefined): BootCheckSettings {
  const capture = (v: BootCheckProfile['setupId'], def: TextPattern): TextPattern | undefined => (v === true ? def : v === false || v === undefined ? undefined : v);
  const out: BootCheckSettings = {
    timeoutSeconds: p.timeoutSeconds ?? 10,
    baud: p.baud ?? 115200,
    require: p.require ?? [],
    forbid: p.forbid ?? [...DEFAULT_FORBIDDEN],
    settleSeconds: p.settleSeconds ?? 0,
  };
  const setupId = capture(p.setupId, DEFAULT_SETUP_ID_PATTERN);
  if (setupId) out.setupId = setupId;
  const serial = capture(p.serial, serialKey === undefined ? DEFAULT_SERIAL_PATTERN : defaultSerialPattern(serialKey));
  if (serial) out.serial = serial;
  return out;
}

/** Checks the profile's `bootCheck` (paths as `bootCheck.require[1].regex`); keeps it as written. */
export function validateBootCheck(v: unknown, fail: Fail, serialKey: string | undefined): BootCheckProfile {
  const o = object(v, 'bootCheck', fail);
  for (const k of Object.keys(o)) if (!(BOOT_CHECK_FIELDS as readonly string[]).includes(k)) fail(`bootCheck.${k}`, `unknown field (allowed: ${BOOT_CHECK_FIELDS.join(', ')})`);
  const num = (key: string, def: number, min: number, max: number): number => {
    const x = o[key] ?? def;
    return typeof x === 'number' && Number.isFinite(x) && x >= min && x <= max ? x : fail(`bootCheck.${key}`, `must be a number of seconds from ${min} to ${max}`);
  };
  const baud = o.baud ?? 115200;
  if (!(BAUDS as readonly unknown[]).includes(baud)) fail('bootCheck.baud', `must be one of ${BAUDS.join(', ')}`);
  const list = (key: 'require' | 'forbid'): TextPattern[] | undefined => {
    const x = o[key];
    if (x === undefined) return undefined;
    if (!Array.isArray(x) || x.length > 50) fail(`bootCheck.${key}`, 'must be a list (at most 50) of texts or { "regex": "…" }');
    return (x as unknown[]).map((p, i) => pattern(p, `bootCheck.${key}[${i}]`, fail, false));
  };
  const capture = (key: 'setupId' | 'serial'): BootCheckProfile['setupId'] => {
    const x = o[key];
    if (x === undefined || typeof x === 'boolean') return x;
    return pattern(x, `bootCheck.${key}`, fail, true) as { regex: string; flags?: string };
  };
  const out: BootCheckProfile = {};
  if (o.timeoutSeconds !== undefined) out.timeoutSeconds = num('timeoutSeconds', 10, 0.1, 120);
  if (o.baud !== undefined) out.baud = baud as number;
  const require = list('require');
  if (require) out.require = require;
  const forbid = list('forbid');
  if (forbid) out.forbid = forbid;
  const setupId = capture('setupId');
  if (setupId !== undefined) out.setupId = setupId;
  const serial = capture('serial');
  if (serial && serialKey === undefined) fail('bootCheck.serial', 'needs a serial number scheme ("serial" in the profile)');
  if (serial !== undefined) out.serial = serial;
  if (o.settleSeconds !== undefined) out.settleSeconds = num('settleSeconds', 0, 0, 30);
  return out;
}

function object(v: unknown, path: string, fail: Fail): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, 'must be an object like { "require": ["app_main: started"], "setupId": true }');
}

function pattern(v: unknown, path: string, fail: Fail, needsCapture: boolean): TextPattern {
  if (typeof v === 'string' && !needsCapture) {
    return v.length > 0 && v.length <= 200 ? v : fail(path, 'must be a text of 1 to 200 characters');
  }
  const o = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(path, needsCapture ? 'must be true or { "regex": "… (capture) …" }' : 'must be a text or { "regex": "…" }');
  for (const k of Object.keys(o)) if (k !== 'regex' && k !== 'flags') fail(`${path}.${k}`, 'unknown field (allowed: regex, flags)');
  if (typeof o.regex !== 'string' || o.regex.length === 0 || o.regex.length > 200) fail(`${path}.regex`, 'must be a regular expression of 1 to 200 characters');
  if (o.flags !== undefined && o.flags !== 'i' && o.flags !== '') fail(`${path}.flags`, 'must be "i" (ignore case) or absent');
  let re: RegExp;
  try {
    re = new RegExp(o.regex as string, o.flags as string | undefined);
  } catch (err) {
    return fail(`${path}.regex`, `not a valid regular expression (${(err as Error).message})`);
  }
  if (needsCapture && !/\((?!\?)/.test(re.source)) fail(`${path}.regex`, 'needs a capture group ( … ) around the value');
  return o.flags ? { regex: o.regex as string, flags: o.flags as string } : { regex: o.regex as string };
}

function compile(p: TextPattern): (line: string) => RegExpExecArray | boolean {
  if (typeof p === 'string') return (line) => line.includes(p);
  const re = new RegExp(p.regex, p.flags);
  return (line) => re.exec(line) ?? false;
}

export function describePattern(p: TextPattern): string {
  return typeof p === 'string' ? `"${p}"` : `/${p.regex}/${p.flags ?? ''}`;
}

/** How a boot check ended. Messages quote the firmware's own line; never a setup code. */
export type BootVerdict =
  | { ok: true }
  | { ok: false; code: 'boot-crash' | 'boot-missing' | 'boot-mismatch' | 'boot-silent' | 'boot-no-reset'; message: string; line?: string };

export interface BootExpectation {
  setupId: string;
  serial: string | null;
  /** Removed from the log and messages wherever it appears (8 digits, with or without dashes). */
  setupCode?: string;
}

/** Feeds on the text the port receives after the reset; decides as soon as it can. */
export class BootLogMatcher {
  private readonly required: { pattern: TextPattern; test: ReturnType<typeof compile>; seen: boolean }[];
  private readonly forbidden: { pattern: TextPattern; test: ReturnType<typeof compile> }[];
  private readonly captures: { what: 'setup ID' | 'serial number'; test: ReturnType<typeof compile>; expected: string; seen: boolean }[] = [];
  private partial = '';
  private text = '';
  private lastLine = '';
  /** A line after the ROM's own (the bootloader or the app said something). */
  private firmwareSpoke = false;
  private failure: Extract<BootVerdict, { ok: false }> | undefined;

  constructor(private readonly settings: BootCheckSettings, private readonly expected: BootExpectation) {
    this.required = settings.require.map((pattern) => ({ pattern, test: compile(pattern), seen: false }));
    this.forbidden = settings.forbid.map((pattern) => ({ pattern, test: compile(pattern) }));
    if (settings.setupId) this.captures.push({ what: 'setup ID', test: compile(settings.setupId), expected: expected.setupId, seen: false });
    if (settings.serial && expected.serial !== null) this.captures.push({ what: 'serial number', test: compile(settings.serial), expected: expected.serial, seen: false });
  }

  /** Everything required was seen (and nothing failed). */
  get complete(): boolean {
    return !this.failure && this.required.every((r) => r.seen) && this.captures.every((c) => c.seen);
  }

  /** Nothing to wait for: only forbidden lines are watched (passes when the time is up). */
  get watchOnly(): boolean {
    return this.required.length === 0 && this.captures.length === 0;
  }

  get failed(): Extract<BootVerdict, { ok: false }> | undefined {
    return this.failure;
  }

  /**
   * The log received so far as plain lines (colour codes and other control characters removed, so
   * it can be shown anywhere; setup code removed), at most BOOT_LOG_LIMIT characters (the end).
   */
  get log(): string {
    const plain = this.text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
    const log = this.scrub(plain);
    return log.length > BOOT_LOG_LIMIT ? `…${log.slice(-BOOT_LOG_LIMIT)}` : log;
  }

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-4 * BOOT_LOG_LIMIT);
    const parts = (this.partial + chunk).split(/\r\n|\n|\r/);
    this.partial = (parts.pop() ?? '').slice(-MAX_LINE);
    for (const raw of parts) this.line(raw);
  }

  /** The time is up: the verdict on what was received. */
  finish(): BootVerdict {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    if (this.failure) return this.failure;
    if (this.complete) return { ok: true };
    const shown = this.settings.timeoutSeconds;
    if (this.text.trim() === '') return { ok: false, code: 'boot-silent', message: `Boot check: the unit printed nothing in ${shown} s after the reset.` };
    if (!this.firmwareSpoke) return { ok: false, code: 'boot-silent', message: `Boot check: the firmware printed nothing in ${shown} s (only the chip's ROM did: "${this.scrub(this.lastLine)}").` };
    const missing = this.required.find((r) => !r.seen);
    const what = missing ? `the line ${describePattern(missing.pattern)}` : `its ${this.captures.find((c) => !c.seen)!.what}`;
    const last = this.lastLine ? ` Last line: "${this.scrub(this.lastLine)}".` : '';
    return { ok: false, code: 'boot-missing', message: `Boot check: the firmware did not print ${what} within ${shown} s.${last}` };
  }

  private line(raw: string): void {
    if (this.failure) return;
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').slice(0, MAX_LINE);
    if (line.trim()) this.lastLine = line;
    if (line.trim() && !ROM_LINE.test(line.trim())) this.firmwareSpoke = true;
    for (const f of this.forbidden) {
      if (f.test(line)) {
        this.failure = { ok: false, code: 'boot-crash', message: `Boot check: the firmware printed "${this.scrub(line.trim())}" (forbidden: ${describePattern(f.pattern)}).`, line: this.scrub(line) };
        return;
      }
    }
    for (const r of this.required) if (!r.seen && r.test(line)) r.seen = true;
    for (const c of this.captures) {
      const m = c.test(line);
      if (c.seen || !m) continue;
      const value = typeof m === 'boolean' ? undefined : m[1];
      if (value !== c.expected) {
        this.failure = { ok: false, code: 'boot-mismatch', message: `Boot check: the firmware reports ${c.what} ${value ?? '(none)'}, but this unit was given ${c.expected}: "${this.scrub(line.trim())}".`, line: this.scrub(line) };
        return;
      }
      c.seen = true;
    }
  }

  private scrub(text: string): string {
    const code = this.expected.setupCode?.replace(/-/g, '');
    if (!code || !/^\d{8}$/.test(code)) return text;
    return text.split(code).join('[setup code]').split(`${code.slice(0, 3)}-${code.slice(3, 5)}-${code.slice(5)}`).join('[setup code]');
  }
}
