// Public surface of the label module (layout model, QR matrix, SVG and ZPL rendering, sheet grid).
// PDF rendering lives in src-main/label/pdf.ts (pdf-lib, Node side).
export * from './layout.ts';
export { decodeLogoDataUrl, setupCodeDigits, setupCodeInPayload, setupCodeLines } from './label-data.ts';
export type { DecodedLogo, LogoMimeType } from './label-data.ts';
export { DEFAULT_QR_ERROR_CORRECTION, QR_QUIET_ZONE_MODULES, qrMatrix, qrPathData } from './qr.ts';
export type { QrErrorCorrectionLevel, QrMatrix } from './qr.ts';
export { LABEL_FONT_FAMILY, renderLabelSvg, renderQrSvg, type QrSvgOptions } from './svg.ts';
export { PAPER_SIZES_MM, SHEET_DEFAULTS, sheetGrid, type SheetGrid, type SheetOptions, type SheetPaper } from './sheet.ts';
export { renderLabelZpl, zplLayoutDpi, ZPL_DOTS_PER_MM, ZPL_DPIS, type ZplDpi, type ZplRenderOptions } from './zpl.ts';
