import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { qrMatrix, qrPathData } from '../../shared/label/qr.ts';
import { decodeQr, isDark, rasterisePdf, readPng, type Raster } from './raster.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/label/qr/${name}`, import.meta.url)));
const expected = new TextDecoder().decode(fixture('expected.txt')).trim();

/** White border around an image (jsQR wants a quiet zone). */
function pad(img: Raster, border: number): Raster {
  const width = img.width + 2 * border;
  const height = img.height + 2 * border;
  const data = new Uint8Array(width * height * 4).fill(255);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const v = isDark(img, x, y) ? 0 : 255;
      const o = ((y + border) * width + x + border) * 4;
      data[o] = data[o + 1] = data[o + 2] = v;
    }
  }
  return { width, height, data };
}

describe('decoder pipeline sanity (vector images made with npm qrcode)', () => {
  it('expected payload is the ADK IP-only example', () => {
    expect(expected).toBe('X-HM://0071WK4SM7OSX');
  });

  it('jsQR decodes qr.png', () => {
    expect(decodeQr(readPng(fixture('qr.png')))).toBe(expected);
  });

  it('jsQR decodes qr-nomargin.png once a quiet zone is added', () => {
    expect(decodeQr(pad(readPng(fixture('qr-nomargin.png')), 16))).toBe(expected);
  });

  it('pdftoppm + jsQR decode label.pdf', () => {
    const [page] = rasterisePdf(fixture('label.pdf'), 300);
    expect(decodeQr(page!)).toBe(expected);
  });
});

describe('qrMatrix', () => {
  it('matches the module grid of the vector image pixel for pixel (orientation, mask, EC M)', () => {
    const img = readPng(fixture('qr-nomargin.png'));
    const matrix = qrMatrix(expected, 'M');
    expect(matrix.size).toBe(21);
    const px = img.width / matrix.size; // 4 px per module
    expect(px).toBe(4);
    for (let row = 0; row < matrix.size; row++) {
      for (let col = 0; col < matrix.size; col++) {
        const dark = isDark(img, Math.floor((col + 0.5) * px), Math.floor((row + 0.5) * px));
        expect(matrix.modules[row]![col], `module ${row},${col}`).toBe(dark);
      }
    }
  });

  it('a 20-character payload is version 1 at M and version 2 at Q (spec §7)', () => {
    expect(qrMatrix('X-HM://0071WK4SM7OSX', 'M').version).toBe(1);
    expect(qrMatrix('X-HM://0071WK4SM7OSX', 'Q').version).toBe(2);
    expect(qrMatrix('X-HM://0071WK4SM7OSX').errorCorrectionLevel).toBe('M');
  });

  it('the 38-character product-data payload needs version 2 at M', () => {
    const m = qrMatrix('X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S', 'M');
    expect(m.version).toBe(2);
    expect(m.size).toBe(25);
  });

  it('finder patterns sit in three corners (7×7 dark ring)', () => {
    const { modules, size } = qrMatrix(expected);
    for (const [r0, c0] of [[0, 0], [0, size - 7], [size - 7, 0]] as const) {
      for (let i = 0; i < 7; i++) {
        expect(modules[r0]![c0 + i]).toBe(true);
        expect(modules[r0 + 6]![c0 + i]).toBe(true);
        expect(modules[r0 + i]![c0]).toBe(true);
        expect(modules[r0 + i]![c0 + 6]).toBe(true);
      }
    }
    // White separator row under the top-left finder.
    expect(modules[7]!.slice(0, 8).every((dark) => !dark)).toBe(true);
  });

  it('path data covers exactly the dark modules', () => {
    const matrix = qrMatrix(expected);
    const covered = matrix.modules.map((line) => line.map(() => false));
    for (const m of qrPathData(matrix).matchAll(/M(\d+) (\d+)h(\d+)v1h-(\d+)z/g)) {
      const [col, row, run] = [Number(m[1]), Number(m[2]), Number(m[3])];
      expect(Number(m[4])).toBe(run);
      for (let c = col; c < col + run; c++) {
        expect(covered[row]![c]).toBe(false);
        covered[row]![c] = true;
      }
    }
    expect(covered).toEqual(matrix.modules);
  });

  it('rejects empty content', () => {
    expect(() => qrMatrix('')).toThrow(/empty/);
  });
});
