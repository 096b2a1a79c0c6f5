// What a caller asks of the label layout: the label size (a preset or custom mm), what is shown,
// the data printed, and the tuning defaults; plus resolveSpec, which fills in the defaults and
// refuses impossible values before any geometry is computed (used by layout.ts and its helpers).
import { LabelLayoutError } from './errors.ts';
import type { CodeStyle } from './label-data.ts';
import { DEFAULT_QR_ERROR_CORRECTION, type QrErrorCorrectionLevel } from './qr.ts';

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

export const LABEL_DEFAULTS = {
  codeStyle: 'dashed' as CodeStyle,
  marginMm: 1,
  minModuleMm: 0.3,
  minCodeFontMm: 3,
  maxCodeFontMm: 8,
  textFontMm: 1.8,
  errorCorrectionLevel: DEFAULT_QR_ERROR_CORRECTION,
};

export function labelSize(size: LabelSpec['size']): LabelSize {
  if (typeof size === 'string') {
    const preset = LABEL_PRESETS[size];
    if (!preset) throw new LabelLayoutError('label', `unknown size preset "${String(size)}"`);
    return { ...preset };
  }
  return { widthMm: size.widthMm, heightMm: size.heightMm };
}

/** A LabelSpec with its size resolved to mm and every default filled in. */
export interface ResolvedSpec {
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

/** Fill in the defaults; throws LabelLayoutError for a value no label can have. */
export function resolveSpec(spec: LabelSpec): ResolvedSpec {
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
  checkResolved(r, spec.maxCodeFontMm);
  return r;
}

function checkResolved(r: ResolvedSpec, maxCodeFontMm: number | undefined): void {
  const positive: [string, number | undefined][] = [
    ['width', r.widthMm],
    ['height', r.heightMm],
    ['minModuleMm', r.minModuleMm],
    ['minCodeFontMm', r.minCodeFontMm],
    ['maxCodeFontMm', maxCodeFontMm],
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
}
