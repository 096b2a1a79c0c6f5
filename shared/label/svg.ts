// SVG rendering of a label layout: real size (mm), self-contained (no external references, no
// scripts, no style elements), so it is safe as <img src="data:image/svg+xml,…"> under a strict CSP.
import type { LabelLayout } from './layout.ts';
import {
  DEFAULT_QR_ERROR_CORRECTION,
  QR_QUIET_ZONE_MODULES,
  qrMatrix,
  qrPathData,
  type QrErrorCorrectionLevel,
} from './qr.ts';

/** Helvetica first; Arial and Liberation Sans have the same advance widths. */
export const LABEL_FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', sans-serif";

export function renderLabelSvg(layout: LabelLayout): string {
  const w = num(layout.widthMm);
  const h = num(layout.heightMm);
  const { qr } = layout;
  const inset = qr.quietZoneModules * qr.moduleMm;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}mm" height="${h}mm" viewBox="0 0 ${w} ${h}">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<path fill="#000" shape-rendering="crispEdges" transform="translate(${num(qr.xMm + inset)} ${num(qr.yMm + inset)}) scale(${num(qr.moduleMm)})" d="${qrPathData(qr.matrix)}"/>`,
  ];
  for (const t of layout.texts) {
    parts.push(
      `<text x="${num(t.xMm)}" y="${num(t.baselineMm)}" font-family="${LABEL_FONT_FAMILY}" font-size="${num(t.fontSizeMm)}" fill="#000">${escapeXml(t.text)}</text>`,
    );
  }
  if (layout.logo) {
    const l = layout.logo;
    parts.push(
      `<image x="${num(l.xMm)}" y="${num(l.yMm)}" width="${num(l.widthMm)}" height="${num(l.heightMm)}" preserveAspectRatio="xMidYMid meet" href="${escapeXml(l.dataUrl)}"/>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface QrSvgOptions {
  errorCorrectionLevel?: QrErrorCorrectionLevel;
  /** Default 4 (the minimum the QR standard asks for). */
  quietZoneModules?: number;
  /** When given, the SVG gets a real size (width/height in mm); otherwise it scales to its box. */
  moduleMm?: number;
}

/** A QR symbol on a white square including its quiet zone; viewBox in modules. */
export function renderQrSvg(payload: string, opts: QrSvgOptions = {}): string {
  const matrix = qrMatrix(payload, opts.errorCorrectionLevel ?? DEFAULT_QR_ERROR_CORRECTION);
  const quiet = opts.quietZoneModules ?? QR_QUIET_ZONE_MODULES;
  if (!(Number.isInteger(quiet) && quiet >= 0)) throw new Error('quietZoneModules must be a whole number ≥ 0');
  const side = matrix.size + 2 * quiet;
  const size =
    opts.moduleMm === undefined ? '' : ` width="${num(side * opts.moduleMm)}mm" height="${num(side * opts.moduleMm)}mm"`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg"${size} viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">`,
    `<rect width="${side}" height="${side}" fill="#fff"/>`,
    `<path fill="#000" transform="translate(${quiet} ${quiet})" d="${qrPathData(matrix)}"/>`,
    '</svg>',
  ].join('\n');
}

/** Compact fixed-precision number (1 µm is far below any printer's resolution). */
function num(value: number): string {
  const rounded = Math.round(value * 10000) / 10000;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
