// The text side of a label: the vertical stack of setup-code lines, optional lines (product name,
// serial, MAC, unit) and logo that sits beside or under the QR. Owns line pitches and Helvetica
// widths, the refusal of lines that cannot fit even at the smallest code size, the code font that
// fills the space left, and each line's baseline. placement.ts decides where the stack goes.
import { LabelLayoutError } from './errors.ts';
import {
  HELVETICA_ASCENDER,
  HELVETICA_DESCENDER,
  helveticaTextWidthEm,
  unsupportedCharacter,
} from './helvetica-metrics.ts';
import { setupCodeLines } from './label-data.ts';
import type { LabelData, LabelSpec, ResolvedSpec } from './label-spec.ts';
import type { LabelTextElement, LabelTextLine } from './layout-model.ts';

// Line pitch as a multiple of the font size; code digits have no descenders so pack tighter.
const CODE_LINE_PITCH = 1.1;
const TEXT_LINE_PITCH = 1.2;
/** Space between the code block and the lines under it. */
const CODE_GAP_MM = 0.6;
const ASC = HELVETICA_ASCENDER / 1000;
const DESC = -HELVETICA_DESCENDER / 1000;
/** Tolerance for comparing lengths in mm. */
export const EPS = 1e-9;

/** One entry of the vertical stack of things next to / under the QR. */
export interface StackItem {
  element: LabelTextElement | 'logo';
  text?: string;
  fontSizeMm: number;
  widthMm: number;
  heightMm: number;
  gapBeforeMm: number;
}

export interface StackContent {
  codeLines: string[];
  codeWidestEm: number;
  /** Secondary lines and logo (everything except the code). */
  others: StackItem[];
  othersHeightMm: number;
}

/** A length for an error message: mm rounded to 0.01. */
export function fmt(mm: number): string {
  return (Math.round(mm * 100) / 100).toString();
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

/** The code lines and the other items the spec shows, checked; the code's size is chosen later. */
export function stackContent(spec: LabelSpec, r: ResolvedSpec, data: LabelData, allowMissing: boolean): StackContent {
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

/** The whole stack with the code at `codeFontMm`. */
export function stackAt(content: StackContent, codeFontMm: number): StackItem[] {
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

export const stackHeight = (items: StackItem[]) => items.reduce((s, i) => s + i.gapBeforeMm + i.heightMm, 0);
export const stackWidth = (items: StackItem[]) => Math.max(...items.map((i) => i.widthMm));

/**
 * Refuse a stack (at the minimum code size) that is wider or taller than the label inside its
 * margins, naming the line that overflows and by how much.
 */
export function checkStackFits(minStack: StackItem[], r: ResolvedSpec, contentW: number, contentH: number): void {
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
}

/** The code grows to fill a w × h text area, bounded by the spec's min and max code font. */
export function codeFontFor(content: StackContent, r: ResolvedSpec, areaW: number, areaH: number): number {
  return Math.max(
    r.minCodeFontMm,
    Math.min(
      r.maxCodeFontMm,
      areaW / content.codeWidestEm,
      (areaH - content.othersHeightMm) / (content.codeLines.length * CODE_LINE_PITCH),
    ),
  );
}

/** A text item placed with its line box at (x, top). */
export function textLine(item: StackItem, x: number, top: number): LabelTextLine {
  const f = item.fontSizeMm;
  // Centre the glyphs' vertical extent in the line box (digits have no descenders).
  const extent = item.element === 'setupCode' ? ASC : ASC + DESC;
  return {
    element: item.element as LabelTextElement,
    text: item.text!,
    fontSizeMm: f,
    xMm: x,
    baselineMm: top + (item.heightMm - extent * f) / 2 + ASC * f,
    widthMm: item.widthMm,
    topMm: top,
    heightMm: item.heightMm,
  };
}
