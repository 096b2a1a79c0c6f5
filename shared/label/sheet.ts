// Grid of labels on a sheet of paper (batch printing on A4 / Letter, cut by hand or on pre-cut
// stock). Pure, so the batch UI can show "N labels per page" before rendering anything.
import { LabelLayoutError } from './errors.ts';
import type { LabelSize } from './layout.ts';

export type SheetPaper = 'A4' | 'Letter';

export const PAPER_SIZES_MM: Record<SheetPaper, LabelSize> = {
  A4: { widthMm: 210, heightMm: 297 },
  Letter: { widthMm: 215.9, heightMm: 279.4 },
};

export interface SheetOptions {
  paper: SheetPaper;
  /** Free border on every side of the page; the grid starts at the top-left margin. Default 10. */
  marginMm?: number;
  /** Space between neighbouring labels. Default 2. */
  gapMm?: number;
  /** Short crop lines in the page margin in line with every label edge. Default false. */
  cutMarks?: boolean;
}

export interface SheetGrid {
  paper: LabelSize;
  columns: number;
  rows: number;
  perPage: number;
  /** Top-left corner of each cell on the page (mm from the page's top-left), row by row. */
  cells: { xMm: number; yMm: number }[];
}

export const SHEET_DEFAULTS = { marginMm: 10, gapMm: 2 };

export function sheetGrid(label: LabelSize, options: SheetOptions): SheetGrid {
  const paper = PAPER_SIZES_MM[options.paper];
  if (!paper) throw new LabelLayoutError('label', `unknown paper "${String(options.paper)}"`);
  const margin = options.marginMm ?? SHEET_DEFAULTS.marginMm;
  const gap = options.gapMm ?? SHEET_DEFAULTS.gapMm;
  if (!(Number.isFinite(margin) && margin >= 0 && Number.isFinite(gap) && gap >= 0)) {
    throw new LabelLayoutError('label', 'sheet margin and gap must be numbers ≥ 0');
  }
  const fit = (paperMm: number, labelMm: number) =>
    Math.max(0, Math.floor((paperMm - 2 * margin + gap + 1e-9) / (labelMm + gap)));
  const columns = fit(paper.widthMm, label.widthMm);
  const rows = fit(paper.heightMm, label.heightMm);
  if (columns === 0 || rows === 0) {
    throw new LabelLayoutError(
      'label',
      `a ${label.widthMm}×${label.heightMm} mm label does not fit on ${options.paper} with ${margin} mm margins`,
    );
  }
  const cells: { xMm: number; yMm: number }[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < columns; col++) {
      cells.push({ xMm: margin + col * (label.widthMm + gap), yMm: margin + row * (label.heightMm + gap) });
    }
  }
  return { paper: { ...paper }, columns, rows, perPage: columns * rows, cells };
}
