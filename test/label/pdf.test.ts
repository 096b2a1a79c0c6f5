import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { LabelLayoutError, layoutLabel, type LabelData, type LabelLayout, type LabelSpec } from '../../shared/label/layout.ts';
import { sheetGrid } from '../../shared/label/sheet.ts';
import { renderLabelPdf, renderLabelSheetPdf } from '../../src-main/label/pdf.ts';
import { crop, decodeQr, inkBox, rasterisePdf, type Raster } from './raster.ts';

const DPI = 300;
const px = (mm: number) => (mm * DPI) / 25.4;
const FIXED_DATE = new Date('2025-01-02T03:04:05Z');
const FULL: LabelData = {
  setupPayload: 'X-HM://0071WK4SM7OSX',
  setupCode: '518-08-582',
  productName: 'Smart Plug Mini',
  serial: 'SN 000123',
  mac: 'AA:BB:CC:DD:EE:FF',
};

/** Spec §7 by hand: code in bits 0–26, IP flag bit 28, category in bits 31–38, base 36, 9 chars. */
function payloadFor(code: number, setupId = 'TEST', category = 7): string {
  const header = code + 2 ** 28 + category * 2 ** 31;
  return `X-HM://${header.toString(36).toUpperCase().padStart(9, '0')}${setupId}`;
}
const codeText = (code: number) => String(code).padStart(8, '0');

async function pageSizesMm(pdf: Uint8Array): Promise<[number, number][]> {
  const doc = await PDFDocument.load(pdf);
  return doc.getPages().map((p) => [(p.getWidth() * 25.4) / 72, (p.getHeight() * 25.4) / 72]);
}

function pdfWords(pdf: Uint8Array): { text: string; xMin: number; yMin: number; xMax: number; yMax: number }[] {
  const dir = mkdtempSync(join(tmpdir(), 'label-text-'));
  try {
    writeFileSync(join(dir, 'in.pdf'), pdf);
    execFileSync('pdftotext', ['-bbox', join(dir, 'in.pdf'), join(dir, 'out.html')]);
    const html = readFileSync(join(dir, 'out.html'), 'utf8');
    return [...html.matchAll(/<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)].map((m) => ({
      xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]), yMax: Number(m[4]), text: m[5]!,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('payloadFor (test helper) agrees with the ADK vector', () => {
  it('518-08-582 / 7OSX / category 7 → X-HM://0071WK4SM7OSX', () => {
    expect(payloadFor(51808582, '7OSX')).toBe('X-HM://0071WK4SM7OSX');
  });
});

describe('renderLabelPdf', () => {
  const cases: [string, LabelSpec][] = [
    ['40x30', { size: '40x30', showProductName: true, showSerial: true, showMac: true }],
    ['25x25', { size: '25x25', showSerial: true }],
    ['50x25', { size: '50x25', codeStyle: 'groups-of-four', showProductName: true }],
  ];
  for (const [name, spec] of cases) {
    it(`${name}: exact page size, QR decodes at 300 dpi, ink inside the margins, text present`, async () => {
      const layout = layoutLabel(spec, FULL);
      const pdf = await renderLabelPdf(layout, { date: FIXED_DATE });
      const [[w, h]] = (await pageSizesMm(pdf)) as [[number, number]];
      expect(w).toBeCloseTo(layout.widthMm, 6);
      expect(h).toBeCloseTo(layout.heightMm, 6);

      const [page] = rasterisePdf(pdf, DPI);
      expect(Math.abs(page!.width - px(layout.widthMm))).toBeLessThanOrEqual(1);
      expect(decodeQr(page!)).toBe(FULL.setupPayload);
      const ink = inkBox(page!)!;
      const margin = px(1) - 1; // 1 px of anti-aliasing
      expect(ink.minX).toBeGreaterThanOrEqual(margin);
      expect(ink.minY).toBeGreaterThanOrEqual(margin);
      expect(ink.maxX).toBeLessThanOrEqual(page!.width - margin);
      expect(ink.maxY).toBeLessThanOrEqual(page!.height - margin);

      const words = pdfWords(pdf).map((wd) => wd.text);
      const code = layout.texts.filter((t) => t.element === 'setupCode').map((t) => t.text);
      for (const c of code) expect(words).toContain(c);
      if (spec.showSerial) expect(words).toContain('000123');
    });
  }

  it('metadata carries no setup code; a title containing the code is refused', async () => {
    const layout = layoutLabel({ size: '40x30' }, FULL);
    const doc = await PDFDocument.load(await renderLabelPdf(layout, { date: FIXED_DATE }), { updateMetadata: false });
    expect(doc.getTitle()).toBe('Accessory setup label');
    const meta = [doc.getTitle(), doc.getAuthor(), doc.getSubject(), doc.getKeywords(), doc.getCreator(), doc.getProducer()].join('|');
    expect(meta).not.toMatch(/518|08582|51808582/);
    await expect(renderLabelPdf(layout, { title: 'Label 51808582' })).rejects.toThrow(LabelLayoutError);
    await expect(renderLabelPdf(layout, { title: 'Label 518-08-582' })).rejects.toThrow(/title/);
  });

  it('several layouts → one page each, each QR its own payload', async () => {
    const codes = [1, 12345679, 98765432];
    const layouts = codes.map((c) => layoutLabel({ size: '25x25' }, { setupPayload: payloadFor(c), setupCode: codeText(c) }));
    const pdf = await renderLabelPdf(layouts, { date: FIXED_DATE });
    expect(await pageSizesMm(pdf)).toHaveLength(3);
    const pages = rasterisePdf(pdf, DPI);
    expect(pages.map(decodeQr)).toEqual(codes.map((c) => payloadFor(c)));
    expect(pdfWords(pdf).map((w) => w.text)).toEqual(['000-00-001', '123-45-679', '987-65-432']);
  });

  it('is byte-reproducible with a fixed date', async () => {
    const layout = layoutLabel({ size: '40x30', showMac: true }, FULL);
    const a = await renderLabelPdf(layout, { date: FIXED_DATE });
    const b = await renderLabelPdf(layout, { date: FIXED_DATE });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('draws a PNG logo in its box; refuses SVG logos', async () => {
    const png = 'data:image/png;base64,' + readFileSync(new URL('../fixtures/label/qr/qr.png', import.meta.url)).toString('base64');
    const layout = layoutLabel({ size: '50x25', logo: { dataUrl: png, widthMm: 6, heightMm: 6 } }, FULL);
    const [page] = rasterisePdf(await renderLabelPdf(layout, { date: FIXED_DATE }), DPI);
    const l = layout.logo!;
    const inLogo = inkBox(page!, Math.floor(px(l.xMm)), Math.floor(px(l.yMm)), Math.ceil(px(l.xMm + l.widthMm)), Math.ceil(px(l.yMm + l.heightMm)));
    expect(inLogo).not.toBeNull();
    expect(decodeQr(crop(page!, 0, 0, px(layout.qr.sizeMm), page!.height))).toBe(FULL.setupPayload);

    const svg = 'data:image/svg+xml;base64,' + Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64');
    const withSvg = layoutLabel({ size: '50x25', logo: { dataUrl: svg, widthMm: 6, heightMm: 6 } }, FULL);
    await expect(renderLabelPdf(withSvg)).rejects.toThrow(/^logo: SVG/);
  });

  it('refuses an empty list', async () => {
    await expect(renderLabelPdf([])).rejects.toThrow(LabelLayoutError);
  });
});

describe('sheet grid', () => {
  it('40×30 on A4 with 10 mm margins and 2 mm gaps: 4 × 8 = 32', () => {
    // floor((210 − 20 + 2)/42) = 4, floor((297 − 20 + 2)/32) = 8
    const g = sheetGrid({ widthMm: 40, heightMm: 30 }, { paper: 'A4' });
    expect([g.columns, g.rows, g.perPage]).toEqual([4, 8, 32]);
    expect(g.cells[5]).toEqual({ xMm: 10 + 42, yMm: 10 + 32 });
  });

  it('25×25 on Letter: 7 × 9 = 63; no gap, 5 mm margin: 8 × 10', () => {
    expect(sheetGrid({ widthMm: 25, heightMm: 25 }, { paper: 'Letter' }).perPage).toBe(63);
    const g = sheetGrid({ widthMm: 25, heightMm: 25 }, { paper: 'Letter', marginMm: 5, gapMm: 0 });
    expect([g.columns, g.rows]).toEqual([8, 10]); // floor(205.9/25), floor(269.4/25)
  });

  it('a label larger than the printable page is an error', () => {
    expect(() => sheetGrid({ widthMm: 200, heightMm: 30 }, { paper: 'A4' })).toThrow(LabelLayoutError);
  });
});

describe('renderLabelSheetPdf', () => {
  it('34 labels of 40×30 on A4: 2 pages (32 + 2), every cell decodes to its own payload', async () => {
    const codes = Array.from({ length: 34 }, (_, i) => 10_000_000 + i * 1_234_567);
    const layouts = codes.map((c) =>
      layoutLabel({ size: '40x30', showSerial: true }, { setupPayload: payloadFor(c), setupCode: codeText(c), serial: `SN ${c}` }),
    );
    const pdf = await renderLabelSheetPdf(layouts, { paper: 'A4', date: FIXED_DATE });
    const sizes = await pageSizesMm(pdf);
    expect(sizes).toHaveLength(2);
    for (const [w, h] of sizes) {
      expect(w).toBeCloseTo(210, 6);
      expect(h).toBeCloseTo(297, 6);
    }
    // 200 dpi keeps this fast (A4 pages); modules are still ≥ 5 px.
    const pages = rasterisePdf(pdf, 200);
    const p200 = (mm: number) => (mm * 200) / 25.4;
    const grid = sheetGrid({ widthMm: 40, heightMm: 30 }, { paper: 'A4' });
    const decoded: (string | null)[] = [];
    codes.forEach((_, i) => {
      const page = pages[Math.floor(i / grid.perPage)]!;
      const cell = grid.cells[i % grid.perPage]!;
      decoded.push(decodeQr(crop(page, p200(cell.xMm), p200(cell.yMm), p200(40), p200(30))));
    });
    expect(decoded).toEqual(codes.map((c) => payloadFor(c)));
    // The second page holds exactly two labels: the third cell is blank.
    const third = grid.cells[2]!;
    expect(inkBox(crop(pages[1]!, p200(third.xMm), p200(third.yMm), p200(40), p200(30)))).toBeNull();
  });

  it('cut marks lie in the page margin only, never on a label', async () => {
    const layouts = [1, 2, 3].map((c) => layoutLabel({ size: '25x25' }, { setupPayload: payloadFor(c), setupCode: codeText(c) }));
    const grid = sheetGrid({ widthMm: 25, heightMm: 25 }, { paper: 'Letter' });
    const [withMarks] = rasterisePdf(await renderLabelSheetPdf(layouts, { paper: 'Letter', cutMarks: true }), 150);
    const [without] = rasterisePdf(await renderLabelSheetPdf(layouts, { paper: 'Letter' }), 150);
    const p150 = (mm: number) => Math.round((mm * 150) / 25.4);
    const topMargin = (img: Raster) => inkBox(img, 0, 0, img.width, p150(10) - 1);
    expect(topMargin(without!)).toBeNull();
    const marks = topMargin(withMarks!)!;
    expect(marks).not.toBeNull();
    // Marks end ≥ 1 mm above the grid and start at the first column edge.
    expect(marks.maxY).toBeLessThanOrEqual(p150(9) + 1);
    expect(marks.minX).toBeGreaterThanOrEqual(p150(grid.cells[0]!.xMm) - 2);
    // The label cells themselves look the same with and without marks.
    const cell = grid.cells[0]!;
    const a = crop(withMarks!, p150(cell.xMm), p150(cell.yMm), p150(25), p150(25));
    const b = crop(without!, p150(cell.xMm), p150(cell.yMm), p150(25), p150(25));
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  });

  it('refuses labels of different sizes on one sheet', async () => {
    const a = layoutLabel({ size: '25x25' }, FULL);
    const b = layoutLabel({ size: '40x30' }, FULL);
    await expect(renderLabelSheetPdf([a, b] as LabelLayout[], { paper: 'A4' })).rejects.toThrow(/same size/);
  });
});
