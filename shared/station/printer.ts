// Where a product's labels go: the system printer (Chromium's print pipeline), a PDF file, or a
// ZPL label printer on the network (raw TCP, port 9100 by default). A ZPL printer also fixes the
// label's dot grid: the label is laid out for its resolution (labelSpecForPrinter), so the preview,
// the PDF and the printed label are the same layout. Validated by hand like the rest of the profile.
import { LABEL_DEFAULTS, type LabelSpec } from '../label/layout.ts';
import { ZPL_DOTS_PER_MM, ZPL_DPIS, ZPL_MIN_FONT_DOTS, zplLayoutDpi, type ZplDpi } from '../label/zpl.ts';

export const ZPL_DEFAULT_PORT = 9100;

type Fail = (path: string, detail: string) => never;

export interface ZplPrinterSettings {
  /** Host name, IPv4 or IPv6 address of the printer. */
  host: string;
  /** Raw TCP port (default 9100). */
  port: number;
  /** Print head resolution: 203 (8 dots/mm), 300 (12) or 600 (24). */
  dpi: ZplDpi;
  /** Absolute darkness 0–30 (~SD); the printer's own setting when absent. */
  darkness?: number;
  /** Print speed 1–14 inches per second (^PR); the printer's own setting when absent. */
  speed?: number;
  /** 'native' (default): the printer's QR field; 'bitmap': the preview's own QR modules (pixel fidelity). */
  qr?: 'native' | 'bitmap';
}

/** What shapes the ZPL itself (the address only says where it goes). */
export type ZplLabelSettings = Pick<ZplPrinterSettings, 'dpi' | 'darkness' | 'speed' | 'qr'>;

export type PrinterSettings =
  | { mode: 'print'; name?: string }
  | { mode: 'pdf'; name?: string }
  | ({ mode: 'zpl' } & ZplPrinterSettings);

export type PrinterMode = PrinterSettings['mode'];
export const PRINTER_MODES: readonly PrinterMode[] = ['print', 'pdf', 'zpl'];

/** The label spec as laid out for this printer: a ZPL printer's resolution sets the module grid. */
export function labelSpecForPrinter(label: LabelSpec, printer: PrinterSettings | ({ mode: 'zpl' } & ZplLabelSettings) | undefined): LabelSpec {
  return printer?.mode === 'zpl' ? { ...label, printerDpi: zplLayoutDpi(printer.dpi) } : label;
}

/**
 * What a ZPL printer cannot take, found when the profile is loaded rather than at the printer: a
 * resolution other than its own, a logo, text below its font's smallest size.
 */
export function checkLabelForPrinter(label: LabelSpec, printer: PrinterSettings | undefined, fail: Fail): void {
  if (printer?.mode !== 'zpl') return;
  if (label.printerDpi !== undefined && Math.abs(label.printerDpi - printer.dpi) > 1) {
    fail('label.printerDpi', `${label.printerDpi} does not match printer.dpi ${printer.dpi}: leave it out, the ZPL printer sets it`);
  }
  if (label.logo) fail('label.logo', 'a ZPL label printer cannot print the logo: remove it or use a system printer');
  const perMm = ZPL_DOTS_PER_MM[printer.dpi];
  const smallest = Math.min(label.textFontMm ?? LABEL_DEFAULTS.textFontMm, label.minCodeFontMm ?? LABEL_DEFAULTS.minCodeFontMm);
  if (Math.round(smallest * perMm) < ZPL_MIN_FONT_DOTS) {
    fail('label', `text of ${smallest} mm is below the ZPL printer font's smallest size (${ZPL_MIN_FONT_DOTS} dots = ${ZPL_MIN_FONT_DOTS / perMm} mm at ${printer.dpi} dpi)`);
  }
}

/** "host:port" of a ZPL printer, as operators read it (IPv6 in brackets). */
export function zplAddress(p: Pick<ZplPrinterSettings, 'host' | 'port'>): string {
  return `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** A host name, IPv4 or IPv6 address (without brackets), or null when it is none of these. */
export function checkHost(host: string): string | null {
  if (HOSTNAME.test(host)) return host;
  if (host.split(':').length >= 3 && IPV6.test(host)) return host.toLowerCase();
  return null;
}

/**
 * Parses `zpl://host[:port]` (the command line's --printer); the port defaults to 9100. Throws an
 * Error whose message says what is wrong.
 */
export function parseZplUrl(url: string): { host: string; port: number } {
  const m = /^zpl:\/\/(?:\[([^\]]+)\]|([^:/[\]]+))(?::(\d{1,5}))?\/?$/i.exec(url.trim());
  const host = m ? checkHost(m[1] ?? m[2]!) : null;
  if (!m || !host) throw new Error(`"${url}" is not a ZPL printer address: use zpl://host or zpl://host:port (e.g. zpl://192.0.2.10:9100)`);
  const port = m[3] === undefined ? ZPL_DEFAULT_PORT : Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${url}": the port must be from 1 to 65535`);
  return { host, port };
}

/** Checks the profile's `printer` object; `fail` throws the profile's field-path error. */
export function validatePrinter(v: unknown, fail: Fail): PrinterSettings {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail('printer', 'must be an object');
  const pr = v as Record<string, unknown>;
  const mode = pr.mode ?? 'print';
  if (!PRINTER_MODES.includes(mode as PrinterMode)) fail('printer.mode', `must be one of ${PRINTER_MODES.map((m) => JSON.stringify(m)).join(', ')}`);
  // A typo is refused in every mode; a ZPL field left behind by a switch to print/pdf is dropped.
  const known = ['mode', 'name', 'host', 'port', 'dpi', 'darkness', 'speed', 'qr'];
  for (const k of Object.keys(pr)) if (!known.includes(k)) fail(`printer.${k}`, `unknown field (allowed: ${known.join(', ')})`);
  if (mode !== 'zpl') {
    // Other fields are dropped, as before ZPL printers existed (a mode switch may leave some behind).
    if (pr.name === undefined) return { mode: mode as 'print' | 'pdf' };
    if (!(typeof pr.name === 'string' && pr.name.length > 0 && pr.name.length <= 256)) fail('printer.name', 'must be a non-empty string of at most 256 characters');
    return { mode: mode as 'print' | 'pdf', name: pr.name as string };
  }
  // A ZPL printer's fields are checked strictly: a typo would silently print with defaults.
  const allowed = ['mode', 'name', 'host', 'port', 'dpi', 'darkness', 'speed', 'qr'];
  for (const k of Object.keys(pr)) if (!allowed.includes(k)) fail(`printer.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
  const host = typeof pr.host === 'string' ? checkHost(pr.host.trim()) : null;
  if (!host) fail('printer.host', 'must be the printer\'s host name or IP address (e.g. "192.0.2.10" or "zebra-line3.local")');
  const int = (key: string, min: number, max: number): number | undefined => {
    const n = pr[key];
    if (n === undefined) return undefined;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : fail(`printer.${key}`, `must be a whole number from ${min} to ${max}`);
  };
  const port = int('port', 1, 65535) ?? ZPL_DEFAULT_PORT;
  if (!ZPL_DPIS.includes(pr.dpi as ZplDpi)) fail('printer.dpi', `must be one of ${ZPL_DPIS.join(', ')} (the print head's resolution)`);
  const darkness = int('darkness', 0, 30);
  const speed = int('speed', 1, 14);
  if (pr.qr !== undefined && pr.qr !== 'native' && pr.qr !== 'bitmap') fail('printer.qr', 'must be "native" (the printer\'s QR) or "bitmap" (the preview\'s own QR, pixel for pixel)');
  return {
    mode: 'zpl', host: host!, port, dpi: pr.dpi as ZplDpi,
    ...(darkness === undefined ? {} : { darkness }),
    ...(speed === undefined ? {} : { speed }),
    ...(pr.qr === undefined ? {} : { qr: pr.qr as 'native' | 'bitmap' }),
  };
}
