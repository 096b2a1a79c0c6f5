// Test helpers: rasterise PDFs with poppler's pdftoppm and decode QR codes with jsQR — both
// independent of the code under test (pdf-lib / qrcode).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

export interface Raster {
  width: number;
  height: number;
  /** RGBA */
  data: Uint8Array;
}

export function readPng(bytes: Uint8Array): Raster {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** One raster per page, via `pdftoppm -r <dpi> -png`. */
export function rasterisePdf(pdf: Uint8Array, dpi = 300): Raster[] {
  const dir = mkdtempSync(join(tmpdir(), 'label-raster-'));
  try {
    writeFileSync(join(dir, 'in.pdf'), pdf);
    execFileSync('pdftoppm', ['-r', String(dpi), '-png', join(dir, 'in.pdf'), join(dir, 'page')]);
    return readdirSync(dir)
      .filter((f) => f.startsWith('page') && f.endsWith('.png'))
      .sort((a, b) => pageNumber(a) - pageNumber(b))
      .map((f) => readPng(readFileSync(join(dir, f))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pageNumber = (file: string) => Number(/-(\d+)\.png$/.exec(file)![1]);

/** Pixels of a rectangle (clamped to the image). */
export function crop(img: Raster, x: number, y: number, w: number, h: number): Raster {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.ceil(x + w));
  const y1 = Math.min(img.height, Math.ceil(y + h));
  const out = new Uint8Array((x1 - x0) * (y1 - y0) * 4);
  for (let row = y0; row < y1; row++) {
    out.set(img.data.subarray((row * img.width + x0) * 4, (row * img.width + x1) * 4), (row - y0) * (x1 - x0) * 4);
  }
  return { width: x1 - x0, height: y1 - y0, data: out };
}

/** Decoded QR text, or null when jsQR finds none. */
export function decodeQr(img: Raster): string | null {
  const result = jsQR(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
  return result ? result.data : null;
}

/** Is the pixel dark (< 50 % grey)? */
export function isDark(img: Raster, x: number, y: number): boolean {
  const i = (y * img.width + x) * 4;
  const alpha = img.data[i + 3]! / 255;
  // Transparent pixels count as white paper.
  const grey = (img.data[i]! + img.data[i + 1]! + img.data[i + 2]!) / 3;
  return grey * alpha + 255 * (1 - alpha) < 128;
}

/** Bounding box of all dark pixels in a region, or null when it is blank. */
export function inkBox(img: Raster, x0 = 0, y0 = 0, x1 = img.width, y1 = img.height) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (isDark(img, x, y)) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return minX === Infinity ? null : { minX, minY, maxX, maxY };
}
