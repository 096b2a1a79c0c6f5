// Pure parts of label printing: the page the hidden print window loads (HTML + CSS served from the
// app protocol, so the strict CSP holds there too), the print/PDF options, and the printer check.
// src-main/electron/printing.ts only hands these to Electron; the UI test uses the same page with
// Chromium's page.pdf, which is the same CDP call printToPDF makes.
import { randomUUID } from 'node:crypto';
import { svgDataUrl } from '../../shared/ipc.ts';
import type { PrinterChoice } from '../../shared/ipc.ts';

export interface LabelSizeMm {
  widthMm: number;
  heightMm: number;
}

export interface LabelJob {
  svg: string;
  size: LabelSizeMm;
  /** The station's own PDF of this label at its exact size (pdf-lib): hosts without Chromium's print pipeline save it. */
  pdfPath?: string | null;
}

/** Electron's webContents.print refuses page sizes of 352 µm or less (lib/browser/api/web-contents.ts). */
const MIN_PAGE_MICRONS = 353;

/** webContents.print pageSize: microns, whole numbers. */
export function pageSizeMicrons(size: LabelSizeMm): { width: number; height: number } {
  const width = Math.round(size.widthMm * 1000);
  const height = Math.round(size.heightMm * 1000);
  if (!(width >= MIN_PAGE_MICRONS && height >= MIN_PAGE_MICRONS && width <= 1_000_000 && height <= 1_000_000)) {
    throw new RangeError(`label size ${size.widthMm} × ${size.heightMm} mm cannot be printed`);
  }
  return { width, height };
}

/** Compact mm figure for CSS (0.1 µm resolution). */
function mm(v: number): string {
  return `${Math.round(v * 10000) / 10000}mm`;
}

/** The stylesheet of a label page: the page is exactly the label, no margins, no scaling. */
export function labelPageCss(size: LabelSizeMm): string {
  const w = mm(size.widthMm);
  const h = mm(size.heightMm);
  return [
    `@page { size: ${w} ${h}; margin: 0; }`,
    'html, body { margin: 0; padding: 0; background: #fff; }',
    `body { width: ${w}; height: ${h}; overflow: hidden; }`,
    `img { display: block; width: ${w}; height: ${h}; }`,
    '',
  ].join('\n');
}

function escapeAttr(v: string): string {
  return v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The label page; `cssHref` is its stylesheet on the same origin (style-src 'self'). */
export function labelPageHtml(svg: string, cssHref: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<title>Label</title>',
    `<link rel="stylesheet" href="${escapeAttr(cssHref)}">`,
    '</head><body>',
    `<img id="label" alt="label" src="${escapeAttr(svgDataUrl(svg))}">`,
    '</body></html>',
    '',
  ].join('\n');
}

/** webContents.print options for a silent print of one label on the named printer. */
export function silentPrintOptions(deviceName: string, size: LabelSizeMm) {
  return {
    silent: true,
    printBackground: true,
    deviceName,
    pageSize: pageSizeMicrons(size),
    margins: { marginType: 'none' as const },
    copies: 1,
  };
}

/** webContents.printToPDF options: the page size comes from the label page's @page rule. */
export function labelPdfOptions() {
  return {
    preferCSSPageSize: true,
    printBackground: true,
    margins: { top: 0, bottom: 0, left: 0, right: 0 },
  };
}

/** The printer must be one the OS lists right now, by its exact OS name. */
export function checkPrinterName(name: string, printers: readonly PrinterChoice[]): string {
  if (printers.some((p) => p.name === name)) return name;
  const known = printers.length ? printers.map((p) => p.name).join(', ') : 'none';
  throw new Error(`Printer "${name}" is not installed on this computer (installed: ${known}). Choose a printer in Settings.`);
}

/** Where label pages live on the app origin. */
export const LABEL_ROUTE = '/__label/';

/**
 * Label pages waiting to be printed, served by the protocol handler (and by the UI test's
 * HTTP server) under /__label/<id>.html and /__label/<id>.css. Unguessable ids; one use.
 */
export class LabelPageStore {
  private readonly jobs = new Map<string, LabelJob>();

  add(job: LabelJob): { id: string; htmlPath: string } {
    pageSizeMicrons(job.size); // refuse impossible sizes before any window opens
    const id = randomUUID();
    this.jobs.set(id, job);
    return { id, htmlPath: `${LABEL_ROUTE}${id}.html` };
  }

  remove(id: string): void {
    this.jobs.delete(id);
  }

  /** The response for a request path, or null when it is not a live label page. */
  respond(pathname: string): { body: string; contentType: string } | null {
    if (!pathname.startsWith(LABEL_ROUTE)) return null;
    const m = /^([0-9a-f-]{36})\.(html|css)$/.exec(pathname.slice(LABEL_ROUTE.length));
    if (!m) return null;
    const job = this.jobs.get(m[1]!);
    if (!job) return null;
    return m[2] === 'html'
      ? { body: labelPageHtml(job.svg, `${m[1]}.css`), contentType: 'text/html; charset=utf-8' }
      : { body: labelPageCss(job.size), contentType: 'text/css; charset=utf-8' };
  }
}
