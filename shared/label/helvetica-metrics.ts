// Advance widths of Helvetica (the PDF standard font; Arial / Liberation Sans share the metrics)
// in 1/1000 em, from Adobe's Helvetica AFM. Used to predict text widths without a font engine so
// overflow is caught at layout time. test/label checks every entry against pdf-lib's metrics.
// PDF text is drawn unkerned, browsers kern; widths here are the unkerned advances plus the few
// positive (widening) Helvetica kerning pairs, so they bound the drawn width either way.

/** Vertical metrics (1/1000 em). */
export const HELVETICA_ASCENDER = 718;
export const HELVETICA_DESCENDER = -207;

// U+0020 … U+007E
const ASCII_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

// U+00A0 … U+00FF
const LATIN1_WIDTHS = [
  278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
  400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
  667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
  722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
  556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

// The remaining characters of the WinAnsi encoding (what a PDF standard font can show).
const WIN_ANSI_EXTRA_WIDTHS = new Map<number, number>([
  [0x0152, 1000], [0x0153, 944], [0x0160, 667], [0x0161, 500], [0x0178, 667], [0x017d, 611],
  [0x017e, 500], [0x0192, 556], [0x02c6, 333], [0x02dc, 333], [0x2013, 556], [0x2014, 1000],
  [0x2018, 222], [0x2019, 222], [0x201a, 222], [0x201c, 333], [0x201d, 333], [0x201e, 333],
  [0x2020, 556], [0x2021, 556], [0x2022, 350], [0x2026, 1000], [0x2030, 1000], [0x2039, 333],
  [0x203a, 333], [0x20ac, 556], [0x2122, 1000],
]);

/** Advance width of one character in 1/1000 em, or undefined if Helvetica/WinAnsi lacks it. */
export function helveticaCharWidth(codePoint: number): number | undefined {
  if (codePoint >= 0x20 && codePoint <= 0x7e) return ASCII_WIDTHS[codePoint - 0x20];
  if (codePoint >= 0xa0 && codePoint <= 0xff) return LATIN1_WIDTHS[codePoint - 0xa0];
  return WIN_ANSI_EXTRA_WIDTHS.get(codePoint);
}

/** First character of `text` that cannot be drawn in Helvetica, or undefined. */
export function unsupportedCharacter(text: string): string | undefined {
  for (const ch of text) {
    if (helveticaCharWidth(ch.codePointAt(0)!) === undefined) return ch;
  }
  return undefined;
}

// Helvetica AFM kerning pairs with a positive amount (all others only narrow the text).
const R_KERN_WIDENING: Record<string, number> = {
  ':': 30, ';': 30, p: 30, v: 30, y: 30, 'ý': 30, 'ÿ': 30, t: 40, m: 25, n: 25, 'ñ': 25,
  i: 15, 'í': 15, 'î': 15, 'ï': 15, 'ì': 15, k: 15, l: 15, u: 15, 'ú': 15, 'û': 15, 'ü': 15, 'ù': 15,
};
const F_KERN_WIDENING: Record<string, number> = { '\u201d': 60, '\u2019': 50 };

function widening(left: string, right: string): number {
  if (left === 'r') return R_KERN_WIDENING[right] ?? 0;
  if (left === 'f') return F_KERN_WIDENING[right] ?? 0;
  return 0;
}

/**
 * Width of `text` in em: unkerned advances plus widening kerning pairs, i.e. the widest the
 * text gets whether the renderer kerns (browsers) or not (PDF). Throws on characters
 * Helvetica cannot show.
 */
export function helveticaTextWidthEm(text: string): number {
  let total = 0;
  let previous = '';
  for (const ch of text) {
    const width = helveticaCharWidth(ch.codePointAt(0)!);
    if (width === undefined) throw new Error(`character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} has no Helvetica glyph`);
    total += width + widening(previous, ch);
    previous = ch;
  }
  return total / 1000;
}
