// Label layout model: where the QR, the setup code and the optional lines go on a label, in mm.
// Pure and deterministic, so the Electron preview, the PDF files and the batch sheets agree, and
// a label that does not fit is refused here instead of being clipped by a printer.
import { LabelLayoutError, type LabelElement } from './errors.ts';
import {
  HELVETICA_ASCENDER,
  HELVETICA_DESCENDER,
  helveticaTextWidthEm,
  unsupportedCharacter,
} from './helvetica-metrics.ts';
import {
  checkCodeMatchesPayload,
  decodeLogoDataUrl,
  setupCodeInPayload,
  setupCodeLines,
  type CodeStyle,
  type LogoMimeType,
} from './label-data.ts';
import {
  DEFAULT_QR_ERROR_CORRECTION,
  QR_QUIET_ZONE_MODULES,
  qrMatrix,
  type QrErrorCorrectionLevel,
  type QrMatrix,
} from './qr.ts';

export { LabelLayoutError, type LabelElement } from './errors.ts';
export type { CodeStyle } from './label-data.ts';

export const LABEL_PRESETS = {
  '40x30': { widthMm: 40, heightMm: 30 },
  '25x25': { widthMm: 25, heightMm: 25 },
  '50x25': { widthMm: 50, heightMm: 25 },
} as const satisfies Record<string, LabelSize>;

export type LabelPreset = keyof typeof LABEL_PRESETS;

export interface LabelSize {
  widthMm: number;
  heightMm: number;
}

/** A customer-supplied logo (never Apple artwork), fitted into a widthMm × heightMm box. */
export interface LabelLogo {
  /** `data:image/png;base64,…`, `data:image/jpeg;base64,…` or `data:image/svg+xml;base64,…`. */
  dataUrl: string;
  widthMm: number;
  heightMm: number;
}

export interface LabelSpec {
  size: LabelSize | LabelPreset;
  /** `dashed` = one line `DDD-DD-DDD` (default); `groups-of-four` = two lines of four digits. */
  codeStyle?: CodeStyle;
  showProductName?: boolean;
  showSerial?: boolean;
  showMac?: boolean;
  /** The unit line: short unit number and bench slot ("Unit 1234 · Slot 3"), which tie the label to its board. */
  showUnit?: boolean;
  logo?: LabelLogo;
  /** White border kept free of text and QR modules (the quiet zone may lie in it). Default 1. */
  marginMm?: number;
  /** Smallest acceptable QR module. Default 0.3 mm. */
  minModuleMm?: number;
  /** Smallest font size (em, mm) for the setup code digits. Default 3 mm (≈ 8.5 pt). */
  minCodeFontMm?: number;
  /** The code grows into free space up to this font size. Default 8 mm. */
  maxCodeFontMm?: number;
  /** Font size of the product name / serial / MAC lines. Default 1.8 mm (≈ 5 pt). */
  textFontMm?: number;
  /** Default M (see DEFAULT_QR_ERROR_CORRECTION). */
  errorCorrectionLevel?: QrErrorCorrectionLevel;
  /** Printer resolution; when given, the module size is a whole number of printer dots. */
  printerDpi?: number;
}

export interface LabelData {
  /** `X-HM://…` setup payload (QR content). */
  setupPayload: string;
  /** `DDD-DD-DDD` or `DDDDDDDD`; must be the code inside the payload. */
  setupCode: string;
  productName?: string;
  serial?: string;
  mac?: string;
  /** The unit line (see LabelSpec.showUnit). */
  unit?: string;
}

export type LabelTextElement = 'setupCode' | 'productName' | 'serial' | 'mac' | 'unit';

/** One line of text. Renderers draw it left-aligned at xMm on baselineMm in Helvetica. */
export interface LabelTextLine {
  element: LabelTextElement;
  text: string;
  fontSizeMm: number;
  xMm: number;
  baselineMm: number;
  /** Predicted advance width (Helvetica metrics, unkerned). */
  widthMm: number;
  /** The line box reserved for the line (used for overlap checks). */
  topMm: number;
  heightMm: number;
}

export interface LabelQrPlacement {
  /** Top-left of the symbol including its quiet zone. */
  xMm: number;
  yMm: number;
  /** Side of the symbol including the quiet zone: (matrix.size + 2 × quietZoneModules) × moduleMm. */
  sizeMm: number;
  moduleMm: number;
  quietZoneModules: number;
  matrix: QrMatrix;
  /** What the symbol encodes (the setup payload): printers with their own QR encoder need it. */
  data: string;
}

export interface LabelLogoPlacement {
  /** Box the image is fitted into (aspect ratio kept, centred). */
  xMm: number;
  yMm: number;
  widthMm: number;
  heightMm: number;
  dataUrl: string;
  mimeType: LogoMimeType;
}

export interface LabelLayout {
  widthMm: number;
  heightMm: number;
  /** `side`: text column right of the QR; `stacked`: text below the QR. */
  arrangement: 'side' | 'stacked';
  qr: LabelQrPlacement;
  texts: LabelTextLine[];
  logo?: LabelLogoPlacement;
  /**
   * The region the text stack is centred in (beside or under the QR, inside the margins). Every
   * line is centred on it; a renderer whose printer font is not Helvetica centres its lines here.
   */
  textArea: { xMm: number; yMm: number; widthMm: number; heightMm: number };
}

export const LABEL_DEFAULTS = {
  codeStyle: 'dashed' as CodeStyle,
  marginMm: 1,
  minModuleMm: 0.3,
  minCodeFontMm: 3,
  maxCodeFontMm: 8,
  textFontMm: 1.8,
  errorCorrectionLevel: DEFAULT_QR_ERROR_CORRECTION,
};

// Line pitch as a multiple of the font size; code digits have no descenders so pack tighter.
const CODE_LINE_PITCH = 1.1;
const TEXT_LINE_PITCH = 1.2;
/** Space between the code block and the lines under it. */
const CODE_GAP_MM = 0.6;
const EPS = 1e-9;
/** The stacked arrangement must give modules at least this much larger to be chosen. */
const STACKED_MIN_GAIN = 1.05;
const ASC = HELVETICA_ASCENDER / 1000;
const DESC = -HELVETICA_DESCENDER / 1000;

export function labelSize(size: LabelSpec['size']): LabelSize {
  if (typeof size === 'string') {
    const preset = LABEL_PRESETS[size];
    if (!preset) throw new LabelLayoutError('label', `unknown size preset "${String(size)}"`);
    return { ...preset };
  }
  return { widthMm: size.widthMm, heightMm: size.heightMm };
}

/** Lays out one label. Throws LabelLayoutError if anything would not fit or is invalid. */
export function layoutLabel(spec: LabelSpec, data: LabelData): LabelLayout {
  return layoutInternal(spec, data, false);
}

/**
 * Profile-time check: lays the label out with worst-case sample data and returns the problems
 * (empty = fine). Sample fields not given default to: the 38-character product-data payload
 * form (largest QR), MAC `DD:DD:DD:DD:DD:DD` (widest hex digits); a shown product name or serial
 * without a sample reserves its line but cannot be width-checked — pass the longest you will print.
 * With `forPdf` (default true) an SVG logo is reported, as PDF output takes PNG/JPEG only.
 */
export function validateLabelSpec(
  spec: LabelSpec,
  sample: Partial<LabelData> = {},
  options: { forPdf?: boolean } = {},
): string[] {
  const problems: string[] = [];
  try {
    const setupPayload = sample.setupPayload ?? WORST_CASE_PAYLOAD;
    const data: LabelData = {
      setupPayload,
      setupCode: sample.setupCode ?? setupCodeInPayload(setupPayload),
      productName: sample.productName,
      serial: sample.serial,
      mac: sample.mac ?? 'DD:DD:DD:DD:DD:DD',
      unit: sample.unit ?? WORST_CASE_UNIT_LINE,
    };
    const layout = layoutInternal(spec, data, true);
    if ((options.forPdf ?? true) && layout.logo?.mimeType === 'image/svg+xml') {
      problems.push('logo: SVG logos cannot be drawn into PDF labels; use a PNG or JPEG logo');
    }
  } catch (err) {
    if (err instanceof LabelLayoutError) problems.push(err.message);
    else throw err;
  }
  return problems;
}

/** Widest unit line the station prints: a 7-digit unit number in a 2-digit slot. */
export const WORST_CASE_UNIT_LINE = 'Unit 8888888 · Slot 88';

// Espressif README example with product data: version 2 at M, 3 at Q.
const WORST_CASE_PAYLOAD = 'X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S';

interface ResolvedSpec {
  widthMm: number;
  heightMm: number;
  codeStyle: CodeStyle;
  marginMm: number;
  minModuleMm: number;
  minCodeFontMm: number;
  maxCodeFontMm: number;
  textFontMm: number;
  errorCorrectionLevel: QrErrorCorrectionLevel;
  printerDpi?: number;
}

function resolveSpec(spec: LabelSpec): ResolvedSpec {
  const { widthMm, heightMm } = labelSize(spec.size);
  const r: ResolvedSpec = {
    widthMm,
    heightMm,
    codeStyle: spec.codeStyle ?? LABEL_DEFAULTS.codeStyle,
    marginMm: spec.marginMm ?? LABEL_DEFAULTS.marginMm,
    minModuleMm: spec.minModuleMm ?? LABEL_DEFAULTS.minModuleMm,
    minCodeFontMm: spec.minCodeFontMm ?? LABEL_DEFAULTS.minCodeFontMm,
    maxCodeFontMm: Math.max(spec.maxCodeFontMm ?? LABEL_DEFAULTS.maxCodeFontMm, spec.minCodeFontMm ?? 0),
    textFontMm: spec.textFontMm ?? LABEL_DEFAULTS.textFontMm,
    errorCorrectionLevel: spec.errorCorrectionLevel ?? LABEL_DEFAULTS.errorCorrectionLevel,
    printerDpi: spec.printerDpi,
  };
  const positive: [string, number | undefined][] = [
    ['width', r.widthMm],
    ['height', r.heightMm],
    ['minModuleMm', r.minModuleMm],
    ['minCodeFontMm', r.minCodeFontMm],
    ['maxCodeFontMm', spec.maxCodeFontMm],
    ['textFontMm', r.textFontMm],
    ['printerDpi', r.printerDpi],
  ];
  for (const [name, value] of positive) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new LabelLayoutError('label', `${name} must be a positive number of mm (got ${value})`);
    }
  }
  if (r.widthMm > 1000 || r.heightMm > 1000) throw new LabelLayoutError('label', 'larger than 1 m');
  if (!(Number.isFinite(r.marginMm) && r.marginMm >= 0)) {
    throw new LabelLayoutError('label', `marginMm must be ≥ 0 (got ${r.marginMm})`);
  }
  if (2 * r.marginMm >= Math.min(r.widthMm, r.heightMm)) {
    throw new LabelLayoutError('label', `margin ${r.marginMm} mm leaves no printable area`);
  }
  if (!['dashed', 'groups-of-four'].includes(r.codeStyle)) {
    throw new LabelLayoutError('label', `unknown codeStyle "${r.codeStyle}"`);
  }
  if (!['L', 'M', 'Q', 'H'].includes(r.errorCorrectionLevel)) {
    throw new LabelLayoutError('label', `unknown errorCorrectionLevel "${r.errorCorrectionLevel}"`);
  }
  return r;
}

/** One entry of the vertical stack of things next to / under the QR. */
interface StackItem {
  element: LabelTextElement | 'logo';
  text?: string;
  fontSizeMm: number;
  widthMm: number;
  heightMm: number;
  gapBeforeMm: number;
}

interface StackContent {
  codeLines: string[];
  codeWidestEm: number;
  /** Secondary lines and logo (everything except the code). */
  others: StackItem[];
  othersHeightMm: number;
}

function optionalLine(
  element: 'productName' | 'serial' | 'mac' | 'unit',
  shown: boolean | undefined,
  value: string | undefined,
  allowMissing: boolean,
): string | undefined {
  if (!shown) return undefined;
  if (value === undefined || value === '') {
    if (allowMissing) return '';
    throw new LabelLayoutError(element, 'is shown on the label but no value was given');
  }
  if (/[\r\n\t]/.test(value)) throw new LabelLayoutError(element, 'must be a single line of text');
  const bad = unsupportedCharacter(value);
  if (bad !== undefined) {
    const cp = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new LabelLayoutError(element, `character U+${cp} cannot be printed in Helvetica (WinAnsi)`);
  }
  return value;
}

function stackContent(spec: LabelSpec, r: ResolvedSpec, data: LabelData, allowMissing: boolean): StackContent {
  const codeLines = setupCodeLines(data.setupCode, r.codeStyle);
  const codeWidestEm = Math.max(...codeLines.map(helveticaTextWidthEm));
  const others: StackItem[] = [];
  const lines: [LabelTextElement, string | undefined][] = [
    ['productName', optionalLine('productName', spec.showProductName, data.productName, allowMissing)],
    ['serial', optionalLine('serial', spec.showSerial, data.serial, allowMissing)],
    ['mac', optionalLine('mac', spec.showMac, data.mac, allowMissing)],
    ['unit', optionalLine('unit', spec.showUnit, data.unit, allowMissing)],
  ];
  for (const [element, text] of lines) {
    if (text === undefined) continue;
    others.push({
      element,
      text,
      fontSizeMm: r.textFontMm,
      widthMm: helveticaTextWidthEm(text) * r.textFontMm,
      heightMm: r.textFontMm * TEXT_LINE_PITCH,
      gapBeforeMm: 0,
    });
  }
  if (spec.logo) {
    const { widthMm, heightMm } = spec.logo;
    if (!(Number.isFinite(widthMm) && widthMm > 0 && Number.isFinite(heightMm) && heightMm > 0)) {
      throw new LabelLayoutError('logo', 'widthMm and heightMm must be positive numbers');
    }
    others.push({ element: 'logo', fontSizeMm: 0, widthMm, heightMm, gapBeforeMm: others.length ? CODE_GAP_MM / 2 : 0 });
  }
  if (others.length) others[0]!.gapBeforeMm = CODE_GAP_MM;
  const othersHeightMm = others.reduce((sum, item) => sum + item.gapBeforeMm + item.heightMm, 0);
  return { codeLines, codeWidestEm, others, othersHeightMm };
}

function stackAt(content: StackContent, codeFontMm: number): StackItem[] {
  const code = content.codeLines.map<StackItem>((text) => ({
    element: 'setupCode',
    text,
    fontSizeMm: codeFontMm,
    widthMm: helveticaTextWidthEm(text) * codeFontMm,
    heightMm: codeFontMm * CODE_LINE_PITCH,
    gapBeforeMm: 0,
  }));
  return [...code, ...content.others];
}

const stackHeight = (items: StackItem[]) => items.reduce((s, i) => s + i.gapBeforeMm + i.heightMm, 0);
const stackWidth = (items: StackItem[]) => Math.max(...items.map((i) => i.widthMm));

/** Largest module for a QR centred in [0, extent] with dark modules ≥ margin from both ends. */
function maxModuleCentred(extentMm: number, marginMm: number, n: number): number {
  return Math.min(extentMm / (n + 2 * QR_QUIET_ZONE_MODULES), (extentMm - 2 * marginMm) / n);
}

/**
 * Largest module for a QR starting at max(0, margin − quiet zone) in [0, extent], the far end
 * bordering text (no margin there, the quiet zone separates them).
 */
function maxModuleFromStart(extentMm: number, marginMm: number, n: number): number {
  const q = QR_QUIET_ZONE_MODULES;
  const whole = extentMm / (n + 2 * q);
  // When the quiet zone is wider than the margin it may start at the label edge.
  return q * whole >= marginMm ? whole : (extentMm - marginMm) / (n + q);
}

function snapModule(moduleMm: number, printerDpi: number | undefined): number {
  if (!printerDpi) return moduleMm;
  const dotMm = 25.4 / printerDpi;
  return Math.floor(moduleMm / dotMm + EPS) * dotMm;
}

interface Candidate {
  arrangement: 'side' | 'stacked';
  moduleMm: number;
}

function layoutInternal(spec: LabelSpec, data: LabelData, allowMissing: boolean): LabelLayout {
  const r = resolveSpec(spec);
  checkCodeMatchesPayload(data.setupCode, data.setupPayload);
  const content = stackContent(spec, r, data, allowMissing);
  const matrix = qrMatrix(data.setupPayload, r.errorCorrectionLevel);
  const n = matrix.size;
  const m = r.marginMm;
  const contentW = r.widthMm - 2 * m;
  const contentH = r.heightMm - 2 * m;

  const minStack = stackAt(content, r.minCodeFontMm);
  for (const item of minStack) {
    if (item.widthMm > contentW + EPS) {
      const what = item.element === 'setupCode' ? ` at the minimum code size ${r.minCodeFontMm} mm` : '';
      throw new LabelLayoutError(
        item.element,
        `is ${fmt(item.widthMm)} mm wide${what} but the label has ${fmt(contentW)} mm inside its margins (overflow ${fmt(item.widthMm - contentW)} mm)`,
        item.widthMm - contentW,
      );
    }
  }
  const minStackH = stackHeight(minStack);
  if (minStackH > contentH + EPS) {
    let bottom = 0;
    const culprit = minStack.find((item) => (bottom += item.gapBeforeMm + item.heightMm) > contentH + EPS)!;
    throw new LabelLayoutError(
      culprit.element,
      `the text lines need ${fmt(minStackH)} mm of height but the label has ${fmt(contentH)} mm inside its margins (overflow ${fmt(minStackH - contentH)} mm)`,
      minStackH - contentH,
    );
  }

  const minStackW = stackWidth(minStack);
  const side: Candidate = {
    arrangement: 'side',
    moduleMm: snapModule(
      Math.min(maxModuleCentred(r.heightMm, m, n), maxModuleFromStart(r.widthMm - m - minStackW, m, n)),
      r.printerDpi,
    ),
  };
  const stacked: Candidate = {
    arrangement: 'stacked',
    moduleMm: snapModule(
      Math.min(maxModuleCentred(r.widthMm, m, n), maxModuleFromStart(r.heightMm - m - minStackH, m, n)),
      r.printerDpi,
    ),
  };
  // Side by side reads best (code next to the QR, as on retail labels); stack only for a clearly larger QR.
  const best = stacked.moduleMm > side.moduleMm * STACKED_MIN_GAIN ? stacked : side;
  if (!(best.moduleMm >= r.minModuleMm - EPS)) {
    throw new LabelLayoutError(
      'qr',
      `modules would be ${fmt(Math.max(best.moduleMm, 0))} mm, below the ${r.minModuleMm} mm minimum: the label is too small for a scannable QR (version ${matrix.version}, ${n + 2 * QR_QUIET_ZONE_MODULES} modules with quiet zone) next to the text`,
    );
  }
  const layout = place(best, r, content, matrix, data.setupPayload, spec.logo);
  assertInside(layout, r);
  return layout;
}

function place(
  chosen: Candidate,
  r: ResolvedSpec,
  content: StackContent,
  matrix: QrMatrix,
  qrData: string,
  logo: LabelLogo | undefined,
): LabelLayout {
  const q = QR_QUIET_ZONE_MODULES;
  const m = r.marginMm;
  const mod = chosen.moduleMm;
  const box = (matrix.size + 2 * q) * mod;
  const codeLineCount = content.codeLines.length;

  // Region the text stack goes into, then the code grows to fill it (bounded by maxCodeFontMm).
  let qrX: number, qrY: number, area: { x: number; y: number; w: number; h: number };
  if (chosen.arrangement === 'side') {
    qrX = Math.max(0, m - q * mod);
    qrY = (r.heightMm - box) / 2;
    const x = qrX + box;
    area = { x, y: m, w: r.widthMm - m - x, h: r.heightMm - 2 * m };
  } else {
    qrX = (r.widthMm - box) / 2;
    qrY = Math.max(0, m - q * mod);
    const y = qrY + box;
    area = { x: m, y, w: r.widthMm - 2 * m, h: r.heightMm - m - y };
  }
  const codeFontMm = Math.max(
    r.minCodeFontMm,
    Math.min(
      r.maxCodeFontMm,
      area.w / content.codeWidestEm,
      (area.h - content.othersHeightMm) / (codeLineCount * CODE_LINE_PITCH),
    ),
  );
  const stack = stackAt(content, codeFontMm);
  let top = area.y + (area.h - stackHeight(stack)) / 2;
  const texts: LabelTextLine[] = [];
  let logoPlacement: LabelLogoPlacement | undefined;
  for (const item of stack) {
    top += item.gapBeforeMm;
    const x = area.x + (area.w - item.widthMm) / 2;
    if (item.element === 'logo') {
      const decoded = decodeLogoDataUrl(logo!.dataUrl);
      logoPlacement = { xMm: x, yMm: top, widthMm: item.widthMm, heightMm: item.heightMm, dataUrl: logo!.dataUrl, mimeType: decoded.mimeType };
    } else {
      const f = item.fontSizeMm;
      // Centre the glyphs' vertical extent in the line box (digits have no descenders).
      const extent = item.element === 'setupCode' ? ASC : ASC + DESC;
      texts.push({
        element: item.element,
        text: item.text!,
        fontSizeMm: f,
        xMm: x,
        baselineMm: top + (item.heightMm - extent * f) / 2 + ASC * f,
        widthMm: item.widthMm,
        topMm: top,
        heightMm: item.heightMm,
      });
    }
    top += item.heightMm;
  }
  return {
    widthMm: r.widthMm,
    heightMm: r.heightMm,
    arrangement: chosen.arrangement,
    qr: { xMm: qrX, yMm: qrY, sizeMm: box, moduleMm: mod, quietZoneModules: q, matrix, data: qrData },
    texts,
    ...(logoPlacement ? { logo: logoPlacement } : {}),
    textArea: { xMm: area.x, yMm: area.y, widthMm: area.w, heightMm: area.h },
  };
}

/** Guard against layout bugs: nothing may leave the label, enter the margin or touch the QR. */
function assertInside(layout: LabelLayout, r: ResolvedSpec): void {
  const m = r.marginMm;
  const tol = 1e-6;
  const { qr } = layout;
  const inset = qr.quietZoneModules * qr.moduleMm;
  const qrOk =
    qr.xMm >= -tol && qr.yMm >= -tol &&
    qr.xMm + qr.sizeMm <= layout.widthMm + tol && qr.yMm + qr.sizeMm <= layout.heightMm + tol &&
    qr.xMm + inset >= m - tol && qr.yMm + inset >= m - tol &&
    qr.xMm + qr.sizeMm - inset <= layout.widthMm - m + tol && qr.yMm + qr.sizeMm - inset <= layout.heightMm - m + tol;
  if (!qrOk) throw new LabelLayoutError('qr', 'internal layout error: QR outside the label');
  const boxes: { element: LabelElement; x: number; y: number; w: number; h: number }[] = layout.texts.map((t) => ({
    element: t.element, x: t.xMm, y: t.topMm, w: t.widthMm, h: t.heightMm,
  }));
  if (layout.logo) boxes.push({ element: 'logo', x: layout.logo.xMm, y: layout.logo.yMm, w: layout.logo.widthMm, h: layout.logo.heightMm });
  for (const b of boxes) {
    const inside = b.x >= m - tol && b.y >= m - tol && b.x + b.w <= layout.widthMm - m + tol && b.y + b.h <= layout.heightMm - m + tol;
    const overlapsQr = b.x < qr.xMm + qr.sizeMm - tol && b.x + b.w > qr.xMm + tol && b.y < qr.yMm + qr.sizeMm - tol && b.y + b.h > qr.yMm + tol;
    if (!inside || overlapsQr) throw new LabelLayoutError(b.element, 'internal layout error: element outside its area');
  }
}

function fmt(mm: number): string {
  return (Math.round(mm * 100) / 100).toString();
}
