// PDF rendering of label layouts with pdf-lib: one page per label at the exact label size, or
// batch sheets (A4 / Letter grids). Vector QR (one filled path of module runs), Helvetica
// standard font.
//
// The QR symbols of a page go into one content stream written as text (an `re` per run, filled
// once): drawn through pdf-lib's SVG path or operator objects they cost a thousand-label sheet
// about a second, most of it garbage collection of per-command objects.
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFImage, type PDFPage } from 'pdf-lib';
import { LabelLayoutError } from '../../shared/label/errors.ts';
import { decodeLogoDataUrl, setupCodeDigits } from '../../shared/label/label-data.ts';
import type { LabelLayout } from '../../shared/label/layout.ts';
import { qrRuns } from '../../shared/label/qr.ts';
import { sheetGrid, type SheetGrid, type SheetOptions } from '../../shared/label/sheet.ts';

export const PT_PER_MM = 72 / 25.4;
const pt = (mm: number) => mm * PT_PER_MM;
const BLACK = rgb(0, 0, 0);

export interface LabelPdfOptions {
  /** Document title. Default "Accessory setup label". Must not contain a setup code. */
  title?: string;
  /** Creation/modification date; pass a fixed date for byte-reproducible files. Default now. */
  date?: Date;
}

export type LabelSheetPdfOptions = SheetOptions & LabelPdfOptions;

/** One page per label, each page exactly the label's size. */
export async function renderLabelPdf(
  layouts: LabelLayout | readonly LabelLayout[],
  options: LabelPdfOptions = {},
): Promise<Uint8Array> {
  const list = toList(layouts);
  const { doc, font, images } = await newDocument(list, options);
  for (const layout of list) {
    const page = doc.addPage([pt(layout.widthMm), pt(layout.heightMm)]);
    const qr = await drawLabel(page, layout, 0, 0, font, images);
    addQrStream(page, qr);
  }
  return doc.save();
}

/** Labels on A4/Letter sheets in a grid (see sheetGrid); all labels must have the same size. */
export async function renderLabelSheetPdf(
  layouts: readonly LabelLayout[],
  options: LabelSheetPdfOptions,
): Promise<Uint8Array> {
  const list = toList(layouts);
  const first = list[0]!;
  if (list.some((l) => l.widthMm !== first.widthMm || l.heightMm !== first.heightMm)) {
    throw new LabelLayoutError('label', 'all labels on a sheet must have the same size');
  }
  const grid = sheetGrid(first, options);
  const { doc, font, images } = await newDocument(list, options);
  for (let start = 0; start < list.length; start += grid.perPage) {
    const page = doc.addPage([pt(grid.paper.widthMm), pt(grid.paper.heightMm)]);
    const onPage = list.slice(start, start + grid.perPage);
    let qr = '';
    for (const [i, layout] of onPage.entries()) {
      const cell = grid.cells[i]!;
      qr += await drawLabel(page, layout, cell.xMm, cell.yMm, font, images);
    }
    addQrStream(page, qr);
    if (options.cutMarks) drawCutMarks(page, grid, first);
  }
  return doc.save();
}

function toList(layouts: LabelLayout | readonly LabelLayout[]): readonly LabelLayout[] {
  const list = Array.isArray(layouts) ? (layouts as readonly LabelLayout[]) : [layouts as LabelLayout];
  if (list.length === 0) throw new LabelLayoutError('label', 'no labels to render');
  return list;
}

type ImageCache = Map<string, PDFImage>;

async function newDocument(layouts: readonly LabelLayout[], options: LabelPdfOptions) {
  const title = options.title ?? 'Accessory setup label';
  // The title ends up in file managers and print queues: keep setup codes out of it.
  for (const layout of layouts) {
    const code = setupCodeDigits(layout.texts.filter((t) => t.element === 'setupCode').map((t) => t.text).join('').replace(/\D/g, ''));
    if (title.replace(/\D/g, '').includes(code)) {
      throw new LabelLayoutError('label', 'the PDF title must not contain the setup code');
    }
  }
  const doc = await PDFDocument.create({ updateMetadata: false });
  const date = options.date ?? new Date();
  doc.setTitle(title);
  doc.setCreator('Factory Station');
  doc.setProducer('pdf-lib');
  doc.setCreationDate(date);
  doc.setModificationDate(date);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  return { doc, font, images: new Map() as ImageCache };
}

/**
 * Draws one label's text and logo with its top-left corner at (originXMm, originYMm) from the
 * page's top-left, and returns its QR symbol as content-stream text (see addQrStream).
 */
async function drawLabel(
  page: PDFPage,
  layout: LabelLayout,
  originXMm: number,
  originYMm: number,
  font: PDFFont,
  images: ImageCache,
): Promise<string> {
  const pageHeightMm = page.getHeight() / PT_PER_MM;
  const x = (mm: number) => pt(originXMm + mm);
  const y = (mmFromTop: number) => pt(pageHeightMm - originYMm - mmFromTop);

  const { qr } = layout;
  const inset = qr.quietZoneModules * qr.moduleMm;
  // Module units, origin at the symbol's top-left corner, rows going down the page.
  const s = num(pt(qr.moduleMm));
  let ops = `q ${s} 0 0 -${s} ${num(x(qr.xMm + inset))} ${num(y(qr.yMm + inset))} cm\n`;
  for (const r of qrRuns(qr.matrix)) ops += `${r.col} ${r.row} ${r.length} 1 re\n`;
  ops += 'f Q\n';

  for (const t of layout.texts) {
    page.drawText(t.text, { x: x(t.xMm), y: y(t.baselineMm), size: pt(t.fontSizeMm), font, color: BLACK });
  }

  if (layout.logo) {
    const logo = layout.logo;
    const image = await embedLogo(page.doc, logo.dataUrl, images);
    const scale = Math.min(logo.widthMm / image.width, logo.heightMm / image.height);
    const w = image.width * scale;
    const h = image.height * scale;
    const left = logo.xMm + (logo.widthMm - w) / 2;
    const top = logo.yMm + (logo.heightMm - h) / 2;
    page.drawImage(image, { x: x(left), y: y(top + h), width: pt(w), height: pt(h) });
  }
  return ops;
}

/** Adds QR symbols (from drawLabel) to the page as one compressed content stream, in black. */
function addQrStream(page: PDFPage, qrOps: string): void {
  const context = page.doc.context;
  page.node.addContentStream(context.register(context.flateStream(`q 0 g\n${qrOps}Q\n`)));
}

/** A PDF number: at most 4 decimals, no exponent, no trailing zeros. */
function num(v: number): string {
  return String(Math.round(v * 10000) / 10000);
}

async function embedLogo(doc: PDFDocument, dataUrl: string, images: ImageCache): Promise<PDFImage> {
  const cached = images.get(dataUrl);
  if (cached) return cached;
  const { mimeType, bytes } = decodeLogoDataUrl(dataUrl);
  if (mimeType === 'image/svg+xml') {
    throw new LabelLayoutError('logo', 'SVG logos cannot be drawn into PDF labels; use a PNG or JPEG logo');
  }
  let image: PDFImage;
  try {
    image = mimeType === 'image/png' ? await doc.embedPng(bytes) : await doc.embedJpg(bytes);
  } catch {
    throw new LabelLayoutError('logo', `the ${mimeType} image could not be read`);
  }
  images.set(dataUrl, image);
  return image;
}

/** Crop lines in the page margin, in line with every label edge, never touching a label. */
function drawCutMarks(page: PDFPage, grid: SheetGrid, label: { widthMm: number; heightMm: number }): void {
  const first = grid.cells[0]!;
  const margin = Math.min(first.xMm, first.yMm);
  const clearance = 1;
  const length = Math.min(4, margin - clearance - 0.5);
  if (length < 1) return;
  const left = first.xMm;
  const top = first.yMm;
  const right = grid.cells[grid.columns - 1]!.xMm + label.widthMm;
  const bottom = grid.cells[grid.cells.length - 1]!.yMm + label.heightMm;
  const xs = unique(grid.cells.slice(0, grid.columns).flatMap((c) => [c.xMm, c.xMm + label.widthMm]));
  const ys = unique(grid.cells.filter((_, i) => i % grid.columns === 0).flatMap((c) => [c.yMm, c.yMm + label.heightMm]));
  const H = grid.paper.heightMm;
  const line = (x1: number, y1: number, x2: number, y2: number) =>
    page.drawLine({ start: { x: pt(x1), y: pt(H - y1) }, end: { x: pt(x2), y: pt(H - y2) }, thickness: 0.25, color: BLACK });
  for (const x of xs) {
    line(x, top - clearance - length, x, top - clearance);
    line(x, bottom + clearance, x, bottom + clearance + length);
  }
  for (const y of ys) {
    line(left - clearance - length, y, left - clearance, y);
    line(right + clearance, y, right + clearance + length, y);
  }
}

function unique(values: number[]): number[] {
  return [...new Set(values.map((v) => Math.round(v * 1000) / 1000))];
}
