// QR module matrix for label rendering, from the pure encoder core of the `qrcode` package
// (no fs, no canvas: runs in main, renderer, CLI and tests alike).
import qrcodeCore from 'qrcode/lib/core/qrcode.js';

export type QrErrorCorrectionLevel = 'L' | 'M' | 'Q' | 'H';

/**
 * Default error correction: M. A standard 20-character HomeKit payload fills a version-1
 * symbol (21×21) exactly at M, whereas Q needs version 2 (25×25): on the same label M gives
 * ~16 % larger modules, which matters more for phone-camera scanning of small stickers than the
 * extra damage tolerance of Q (25 % vs 15 %) on an indoor sticker.
 */
export const DEFAULT_QR_ERROR_CORRECTION: QrErrorCorrectionLevel = 'M';

/** Quiet zone required around every QR symbol, in modules (ISO/IEC 18004). */
export const QR_QUIET_ZONE_MODULES = 4;

export interface QrMatrix {
  /** Modules per side, without quiet zone (21 for version 1). */
  size: number;
  version: number;
  errorCorrectionLevel: QrErrorCorrectionLevel;
  /** modules[row][col] — true = dark. */
  modules: boolean[][];
}

export function qrMatrix(
  text: string,
  errorCorrectionLevel: QrErrorCorrectionLevel = DEFAULT_QR_ERROR_CORRECTION,
): QrMatrix {
  if (text === '') throw new Error('QR content is empty');
  const symbol = qrcodeCore.create(text, { errorCorrectionLevel });
  const { size, data } = symbol.modules;
  const modules: boolean[][] = [];
  for (let row = 0; row < size; row++) {
    const line: boolean[] = [];
    for (let col = 0; col < size; col++) line.push(data[row * size + col] === 1);
    modules.push(line);
  }
  return { size, version: symbol.version, errorCorrectionLevel, modules };
}

/** The 45 characters of the QR alphanumeric mode. */
const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]+$/;

/**
 * The version of a symbol that holds `text` as one alphanumeric segment (what a label printer's
 * own encoder makes when told "manual input, alphanumeric"), or null when `text` has characters
 * outside that mode. The smallest version that fits, as every encoder picks.
 */
export function qrVersionAlphanumeric(text: string, errorCorrectionLevel: QrErrorCorrectionLevel): number | null {
  if (!ALPHANUMERIC.test(text)) return null;
  return qrcodeCore.create([{ data: text, mode: 'alphanumeric' }], { errorCorrectionLevel }).version;
}

/** A horizontal run of dark modules: row, first column and length, in modules. */
export interface QrRun {
  row: number;
  col: number;
  length: number;
}

/**
 * The dark modules as horizontal runs, row by row. Drawing runs instead of single modules keeps
 * paths small and lets adjacent modules share edges (no hairline seams when rasterised).
 */
export function qrRuns(matrix: QrMatrix): QrRun[] {
  const runs: QrRun[] = [];
  matrix.modules.forEach((line, row) => {
    let col = 0;
    while (col < line.length) {
      if (!line[col]) {
        col++;
        continue;
      }
      const start = col;
      while (col < line.length && line[col]) col++;
      runs.push({ row, col: start, length: col - start });
    }
  });
  return runs;
}

/**
 * SVG path data drawing every dark module as part of one path, in module units, origin at the
 * symbol's top-left (quiet zone not included).
 */
export function qrPathData(matrix: QrMatrix): string {
  return qrRuns(matrix)
    .map((r) => `M${r.col} ${r.row}h${r.length}v1h-${r.length}z`)
    .join('');
}
