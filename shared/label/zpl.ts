// ZPL rendering of a label layout, for industrial label printers (Zebra and the many printers that
// speak its language). Another renderer of the one layout (shared/label/layout.ts): positions and
// sizes are the preview's, converted to printer dots. Pure: returns plain ASCII text.
//
// What the printer is asked to draw:
// - the QR as the printer's own QR field (^BQ: model 2, manual alphanumeric input, the layout's
//   error correction, magnification = the layout's module size in dots). With `qr: 'bitmap'`
//   (pixel fidelity), and whenever ^BQ could not reproduce the layout's symbol exactly, the
//   preview's own module matrix is sent as a graphic field (^GF) instead;
// - each text line in the printer's scalable font 0 on the layout's baseline (^FT), centred in the
//   layout's text area (^FB …,C) exactly as the preview centres its Helvetica lines there. Font 0
//   is not Helvetica, so glyph shapes differ; it is drawn at 90 % width so a line never needs
//   more room than the preview gave it (checked against an independent ZPL renderer in the tests).
import { LabelLayoutError } from './errors.ts';
import type { LabelLayout, LabelQrPlacement, LabelTextLine } from './layout.ts';
import type { QrMatrix } from './qr.ts';
import { qrVersionAlphanumeric } from './qr.ts';

/** Dots per mm of the nominal print head resolutions (a "203 dpi" head has 8 dots per mm). */
export const ZPL_DOTS_PER_MM = { 203: 8, 300: 12, 600: 24 } as const;
export type ZplDpi = keyof typeof ZPL_DOTS_PER_MM;
export const ZPL_DPIS: readonly ZplDpi[] = [203, 300, 600];

/** The head's exact resolution, for layoutLabel's printerDpi (module sizes in whole dots). */
export function zplLayoutDpi(dpi: ZplDpi): number {
  return ZPL_DOTS_PER_MM[dpi] * 25.4;
}

export interface ZplRenderOptions {
  dpi: ZplDpi;
  /** Absolute darkness 0–30 (~SD); the printer's own setting when absent. */
  darkness?: number;
  /** Print speed in inches per second (^PR); the printer's own setting when absent. */
  speed?: number;
  /** 'native' (default): the printer's QR field; 'bitmap': the preview's QR modules as a graphic. */
  qr?: 'native' | 'bitmap';
}

/** Largest ^BQ magnification every firmware accepts. */
export const ZPL_MAX_QR_MAGNIFICATION = 10;
/**
 * Zebra firmware draws an ^FO-placed QR this many dots below its origin: the ^BY bar code height,
 * which persists in the printer, so every label pins it (^BY2,3,10 = the power-up default).
 */
export const ZPL_QR_Y_OFFSET = 10;
/** Smallest height of the scalable font, in dots. */
export const ZPL_MIN_FONT_DOTS = 10;
/** Font 0 width as a fraction of its height (see the header). */
export const ZPL_FONT_WIDTH = 0.9;

/** One label as a ZPL format (^XA … ^XZ), preceded by ~SD when a darkness is given. */
export function renderLabelZpl(layout: LabelLayout, options: ZplRenderOptions): string {
  const d = ZPL_DOTS_PER_MM[options.dpi];
  if (!d) throw new LabelLayoutError('label', `unsupported printer resolution ${options.dpi} dpi (203, 300 or 600)`);
  if (layout.logo) {
    throw new LabelLayoutError('logo', 'a ZPL label printer cannot print the logo: remove it from the label or use a system printer');
  }
  const lines: string[] = [];
  if (options.darkness !== undefined) lines.push(`~SD${String(checkedInt(options.darkness, 0, 30, 'darkness')).padStart(2, '0')}`);
  lines.push('^XA', '^CI28', `^PW${dots(layout.widthMm, d)}`, `^LL${dots(layout.heightMm, d)}`, '^LH0,0');
  if (options.speed !== undefined) lines.push(`^PR${checkedInt(options.speed, 1, 14, 'speed')}`);
  lines.push(...qrFields(layout.qr, d, options.qr ?? 'native'));
  for (const t of layout.texts) lines.push(textField(t, layout.textArea, d));
  lines.push('^PQ1', '^XZ', '');
  return lines.join('\n');
}

/** mm → whole dots, halves rounded up (the 1e-6 keeps float noise from deciding a half). */
function dots(mm: number, perMm: number): number {
  return Math.floor(mm * perMm + 0.5 + 1e-6);
}

function checkedInt(v: number, min: number, max: number, what: string): number {
  if (!(Number.isInteger(v) && v >= min && v <= max)) throw new LabelLayoutError('label', `printer ${what} must be a whole number from ${min} to ${max}`);
  return v;
}

/** The QR: the printer's own ^BQ field when it reproduces the layout's symbol, else a ^GF graphic. */
function qrFields(qr: LabelQrPlacement, d: number, mode: 'native' | 'bitmap'): string[] {
  const exact = qr.moduleMm * d;
  const magnification = Math.round(exact);
  if (magnification < 1 || Math.abs(exact - magnification) > 1e-6) {
    throw new LabelLayoutError('qr', `modules of ${qr.moduleMm} mm are not a whole number of printer dots: the layout was made for another resolution`);
  }
  const inset = qr.quietZoneModules * qr.moduleMm;
  const x = dots(qr.xMm + inset, d);
  const y = dots(qr.yMm + inset, d);
  const ecc = qr.matrix.errorCorrectionLevel;
  const native =
    mode === 'native' &&
    magnification <= ZPL_MAX_QR_MAGNIFICATION &&
    y >= ZPL_QR_Y_OFFSET &&
    // The printer picks the smallest version for its input: it must be the layout's.
    qrVersionAlphanumeric(qr.data, ecc) === qr.matrix.version;
  if (native) return ['^BY2,3,10', `^FO${x},${y - ZPL_QR_Y_OFFSET}^BQN,2,${magnification},${ecc}^FD${ecc}M,A${qr.data}^FS`];
  return [`^FO${x},${y}${graphicField(qr.matrix, magnification)}^FS`];
}

/** The matrix as an uncompressed ^GF graphic, `scale` dots per module, 1 bits = black. */
export function graphicField(matrix: QrMatrix, scale: number): string {
  const side = matrix.size * scale;
  const rowBytes = Math.ceil(side / 8);
  const row = new Uint8Array(rowBytes);
  let hex = '';
  for (let y = 0; y < side; y++) {
    if (y % scale === 0) {
      row.fill(0);
      const modules = matrix.modules[y / scale]!;
      for (let x = 0; x < side; x++) if (modules[Math.floor(x / scale)]) row[x >> 3]! |= 0x80 >> (x & 7);
    }
    for (const byte of row) hex += HEX[byte];
  }
  const total = rowBytes * side;
  return `^GFA,${total},${total},${rowBytes},${hex}`;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** A text line: baseline origin (^FT), font 0, one centred line across the text area (^FB). */
function textField(t: LabelTextLine, area: LabelLayout['textArea'], d: number): string {
  const height = dots(t.fontSizeMm, d);
  if (height < ZPL_MIN_FONT_DOTS) {
    throw new LabelLayoutError(t.element, `text of ${t.fontSizeMm} mm is below the printer font's smallest size (${ZPL_MIN_FONT_DOTS} dots)`);
  }
  const width = Math.round(height * ZPL_FONT_WIDTH);
  return `^FT${dots(area.xMm, d)},${dots(t.baselineMm, d)}^A0N,${height},${width}^FB${dots(area.widthMm, d)},1,0,C^FH_^FD${zplFieldText(t.text)}^FS`;
}

/**
 * Field data for ^FH_ under ^CI28 (UTF-8): printable ASCII as is, everything else — and the
 * command prefixes ^ and ~ and the hex indicator _ — as _XX bytes of its UTF-8 form. A backslash
 * is doubled, which ^FB prints as one.
 */
export function zplFieldText(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch >= ' ' && ch <= '}' && ch !== '^' && ch !== '_') out += ch;
    else for (const b of new TextEncoder().encode(ch)) out += `_${HEX[b]}`;
  }
  return out;
}
