import { PDFDocument, StandardFonts } from 'pdf-lib';
import { Font, FontNames } from '@pdf-lib/standard-fonts';
import { describe, expect, it } from 'vitest';
import { helveticaCharWidth, helveticaTextWidthEm, unsupportedCharacter } from '../../shared/label/helvetica-metrics.ts';

describe('Helvetica width table vs pdf-lib (Adobe AFM via @pdf-lib/standard-fonts)', async () => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const afm = Font.load(FontNames.Helvetica);
  const pdfLibWidth = (ch: string): number | undefined => {
    try {
      return font.widthOfTextAtSize(ch, 1000);
    } catch {
      return undefined; // not in WinAnsi
    }
  };

  it('has exactly the characters pdf-lib can encode, with the same widths (BMP scan)', () => {
    let checked = 0;
    for (let cp = 0; cp < 0x10000; cp++) {
      if (cp >= 0xd800 && cp < 0xe000) continue;
      const ch = String.fromCharCode(cp);
      const ours = helveticaCharWidth(cp);
      // Control characters are refused. pdf-lib 1.17 measures U+0178 Ÿ with the glyph "ydieresis"
      // (500) although it encodes it as WinAnsi 0x9F = Ydieresis; the AFM width of that is 667.
      const theirs = cp < 0x20 ? undefined : cp === 0x178 ? afm.getWidthOfGlyph('Ydieresis') : pdfLibWidth(ch);
      expect(ours, `U+${cp.toString(16)}`).toBe(theirs);
      if (ours !== undefined) checked++;
    }
    expect(checked).toBe(218);
  });

  it('string widths equal pdf-lib for text without narrowing kerning pairs', () => {
    // Includes the widening pair "r t" (+40) of "Smart".
    for (const text of ['518-08-582', '5180', 'SN 000123', 'DD:DD:DD:DD:DD:DD', 'Smart Plug', 'art']) {
      expect(helveticaTextWidthEm(text) * 1000).toBeCloseTo(font.widthOfTextAtSize(text, 1000), 6);
    }
  });

  it('every character pair: never narrower than pdf-lib kerned or unkerned, widening pairs exact', () => {
    const chars: string[] = [];
    for (let cp = 0x20; cp < 0x10000; cp++) if (cp < 0xd800 && helveticaCharWidth(cp) !== undefined) chars.push(String.fromCharCode(cp));
    for (const a of chars) {
      for (const b of chars) {
        const unkerned = helveticaCharWidth(a.codePointAt(0)!)! + helveticaCharWidth(b.codePointAt(0)!)!;
        const kerned = font.widthOfTextAtSize(a + b, 1000);
        const ours = helveticaTextWidthEm(a + b) * 1000;
        if (ours < unkerned - 1e-6 || ours < kerned - 1e-6 || (kerned > unkerned && Math.abs(ours - kerned) > 1e-6)) {
          expect.fail(`pair ${JSON.stringify(a + b)}: ours ${ours}, pdf-lib ${kerned}, unkerned ${unkerned}`);
        }
      }
    }
  });

  it('kerning pairs only ever narrow text in longer strings', () => {
    for (const text of ['AVATAR Wavy', 'Tyre LTV', 'Ÿoyo «Ça» for:', 'Terrarium “fort”']) {
      expect(helveticaTextWidthEm(text) * 1000).toBeGreaterThanOrEqual(font.widthOfTextAtSize(text, 1000) - 1e-9);
    }
  });

  it('hand-checked AFM values: digits 556, hyphen 333, W 944', () => {
    expect(helveticaTextWidthEm('518-08-582')).toBeCloseTo((8 * 556 + 2 * 333) / 1000, 12);
    expect(helveticaCharWidth('W'.codePointAt(0)!)).toBe(944);
  });

  it('reports characters Helvetica cannot show', () => {
    expect(unsupportedCharacter('Plug Ω')).toBe('Ω');
    expect(unsupportedCharacter('Prise électrique € – ok')).toBeUndefined();
    expect(() => helveticaTextWidthEm('日本')).toThrow(/U\+65E5/);
  });
});
