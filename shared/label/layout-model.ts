// The result of laying out a label: the QR placement, each text line, the optional logo and the
// text area, all in mm. This is the contract every renderer draws from (svg.ts, zpl.ts, the PDF
// writer in src-main), so it lives on its own, apart from the code that computes it.
import type { LogoMimeType } from './label-data.ts';
import type { QrMatrix } from './qr.ts';

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
