// The ZPL renderer: golden files for two label sizes at 203 and 300 dpi, each reviewed here
// against the ZPL reference by checks that do not use the renderer (a separate ZPL reader, and
// numbers derived by hand from the mm layout rules — see GOLDEN), then printed by an independent
// ZPL interpreter (zebrash) whose QR must decode to the payload and sit where the layout put it;
// the pixel-fidelity QR (^GF) decoded from its bytes by jsQR; escaping and refusals.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { layoutLabel, LabelLayoutError, validateLabelSpec, WORST_CASE_UNIT_LINE, type LabelData, type LabelPreset, type LabelSpec } from '../../shared/label/layout.ts';
import { setupCodeInPayload } from '../../shared/label/label-data.ts';
import { renderLabelZpl, zplLayoutDpi, type ZplDpi } from '../../shared/label/zpl.ts';
import { decodeQr, inkBox, crop } from './raster.ts';
import { graphicOnLabel, readZpl, type ZplField, type ZplFormat } from './zpl-reader.ts';
import { renderZpl } from './zpl-render.ts';

const DATA: LabelData = { setupPayload: 'X-HM://007JNU5AE7OSX', setupCode: '518-08-582', productName: 'Demo Smart Plug', mac: '24:0A:C4:12:34:56', unit: 'Unit 12 · Slot 3' };
const SPEC = { showProductName: true, showMac: true, showUnit: true } satisfies Omit<LabelSpec, 'size'>;
const TEXTS = ['518-08-582', 'Demo Smart Plug', '24:0A:C4:12:34:56', 'Unit 12 · Slot 3'];

// Expected values derived by hand from the layout rules (margin 1 mm, min code 3 mm, text 1.8 mm,
// quiet zone 4 modules) — not read from the renderer. The payload is 20 alphanumeric characters:
// a version 1 symbol (21 × 21) at error correction M, whose alphanumeric capacity is exactly 20.
//
// 40×30 (side by side): the text column needs the code at 3 mm ("518-08-582" = 5.114 em = 15.34 mm),
// so the QR box is at most 40 − 1 − 15.34 = 23.66 mm for 29 modules: 0.816 mm → 6 dots at 8/mm,
// 9 dots at 12/mm (both 0.75 mm). The quiet zone (3 mm) covers the 1 mm margin: the box starts at
// x = 0, so the symbol at 4 × magnification; vertically the box (29 modules) is centred. The text
// area runs from the box's right edge to 1 mm from the label's.
// 25×25 (stacked): the text under the QR needs 3.3 + 0.6 + 3 × 2.16 = 10.38 mm, leaving
// 25 − 1 − 10.38 = 13.62 mm for 29 modules: 0.470 mm → 3 dots at 8/mm, 5 dots at 12/mm. The box is
// centred horizontally and starts at the top edge; the text area is the label less 1 mm margins.
const GOLDEN = [
  // 320 = 40 × 8, 240 = 30 × 8; symbol y = (240 − 29·6)/2 + 4·6 = 33 + 24; text x = 29·6, w = 320 − 8 − 174
  { file: '40x30-203dpi.zpl', size: '40x30', dpi: 203, perMm: 8, pw: 320, ll: 240, mag: 6, symbol: [24, 57], area: [174, 138], code: 27 },
  // symbol y = (360 − 29·9)/2 + 36 = 85.5 → 86 (halves up); text x = 29·9 = 261, w = 480 − 12 − 261
  { file: '40x30-300dpi.zpl', size: '40x30', dpi: 300, perMm: 12, pw: 480, ll: 360, mag: 9, symbol: [36, 86], area: [261, 207], code: 40 },
  // symbol x = (200 − 29·3)/2 + 4·3 = 56.5 + 12 → 69, y = 4·3; text x = 8, w = 200 − 16
  { file: '25x25-203dpi.zpl', size: '25x25', dpi: 203, perMm: 8, pw: 200, ll: 200, mag: 3, symbol: [69, 12], area: [8, 184], code: 36 },
  // symbol x = (300 − 29·5)/2 + 20 = 97.5 → 98, y = 20; text x = 12, w = 300 − 24
  { file: '25x25-300dpi.zpl', size: '25x25', dpi: 300, perMm: 12, pw: 300, ll: 300, mag: 5, symbol: [98, 20], area: [12, 276], code: 53 },
] as const;
// Code heights: 40×30 fills the text column's width (17.25 mm / 5.114 em = 3.373 mm → 27 / 40 dots);
// 25×25 is limited by the width at 8/mm (23 mm / 5.114 = 4.497 mm → 36) and by the height left
// under the QR at 12/mm ((25 − 1 − 12.083 − 7.08) / 1.1 = 4.397 mm → 53).

const VERSION1_MODULES = 21;
/** Zebra firmware draws an ^FO-placed QR this far below its origin (the ^BY height, pinned to 10). */
const BQ_OFFSET = 10;

function layoutFor(size: LabelPreset, dpi: ZplDpi, spec: Partial<LabelSpec> = {}, data: LabelData = DATA) {
  return layoutLabel({ size, ...SPEC, ...spec, printerDpi: zplLayoutDpi(dpi) }, data);
}

const fixture = (file: string) => readFileSync(`test/fixtures/label/zpl/${file}`, 'utf8');

/** The review: what a ZPL reference says must hold for the label, read from the file itself. */
function review(format: ZplFormat, g: (typeof GOLDEN)[number]) {
  const names = format.commands.map((c) => c.name);
  expect(names[0]).toBe('^XA');
  expect(names.at(-1)).toBe('^XZ');
  expect(format.commands.find((c) => c.name === '^CI')?.params).toBe('28'); // UTF-8 field data
  expect([format.width, format.length]).toEqual([g.pw, g.ll]);

  const qrs = format.fields.filter((f) => f.qr);
  expect(qrs).toHaveLength(1);
  const qr = qrs[0]!;
  expect(format.barcodeDefaults).toBe('2,3,10'); // pins the ^BY height the QR is offset by
  expect(qr.qr).toEqual({ model: 2, magnification: g.mag, ecc: 'M' });
  expect(qr.data).toBe(`MM,A${DATA.setupPayload}`); // ECC M, manual input, alphanumeric
  const moduleMm = g.mag / g.perMm;
  expect(moduleMm).toBeGreaterThanOrEqual(0.3); // the profile default (and ≥ 0.25 mm)
  const [sx, sy] = [qr.origin.x, qr.origin.y + BQ_OFFSET];
  expect([sx, sy]).toEqual(g.symbol);
  const side = VERSION1_MODULES * g.mag;
  const quiet = 4 * g.mag;
  const box = { x0: sx - quiet, y0: sy - quiet, x1: sx + side + quiet, y1: sy + side + quiet };
  expect(box.x0).toBeGreaterThanOrEqual(0);
  expect(box.y0).toBeGreaterThanOrEqual(0);
  expect(box.x1).toBeLessThanOrEqual(g.pw);
  expect(box.y1).toBeLessThanOrEqual(g.ll);

  const texts = format.fields.filter((f) => f.font);
  expect(texts.map((t) => t.text)).toEqual(TEXTS);
  const margin = g.perMm; // 1 mm
  for (const t of texts) {
    expect(t.origin.kind).toBe('FT'); // baseline origin
    expect(t.font!.name).toBe('0');
    expect(t.font!.height).toBeGreaterThanOrEqual(10);
    expect(t.block).toMatchObject({ width: g.area[1], lines: 1, justify: 'C' });
    expect(t.origin.x).toBe(g.area[0]);
    // Inside the label's margins: the block horizontally; vertically the glyphs, from the cap /
    // ascender height (taken as 0.8 of the font height: font 0's capitals and digits are ~0.75)
    // to the descenders (a quarter of the height below the baseline).
    const top = t.origin.y - Math.ceil(0.8 * t.font!.height);
    const bottom = t.origin.y + Math.ceil(t.font!.height / 4);
    expect(t.origin.x).toBeGreaterThanOrEqual(margin);
    expect(t.origin.x + t.block!.width).toBeLessThanOrEqual(g.pw - margin);
    expect(top).toBeGreaterThanOrEqual(0);
    expect(bottom).toBeLessThanOrEqual(g.ll - margin);
    // never on the QR or its quiet zone
    const overlaps = t.origin.x < box.x1 && t.origin.x + t.block!.width > box.x0 && top < box.y1 && bottom > box.y0;
    expect(overlaps).toBe(false);
  }
  expect(texts[0]!.font!.height).toBe(g.code);
  // lines in reading order, top to bottom
  expect(texts.map((t) => t.origin.y)).toEqual([...texts.map((t) => t.origin.y)].sort((a, b) => a - b));
}

interface PrintedExpectation {
  widthMm: number;
  heightMm: number;
  perMm: number;
  /** The symbol's top-left corner and side in dots, and its quiet zone. */
  symbol: readonly [number, number];
  side: number;
  quiet: number;
  /** The text area in dots. */
  area: { x0: number; x1: number; y0: number; y1: number };
  payload: string;
}

/** Prints `zpl` with the independent interpreter and checks the QR and where every other dot of ink is. */
async function checkPrinted(zpl: string, e: PrintedExpectation) {
  const img = await renderZpl(zpl, e.widthMm, e.heightMm, e.perMm);
  expect([img.width, img.height]).toEqual([Math.round(e.widthMm * e.perMm), Math.round(e.heightMm * e.perMm)]);
  expect(decodeQr(img)).toBe(e.payload);
  const [sx, sy] = e.symbol;
  const { side, quiet, area } = e;
  // The symbol's ink, and nothing else, in the quiet-zone box.
  const qrInk = inkBox(img, Math.max(0, sx - quiet), Math.max(0, sy - quiet), Math.min(img.width, sx + side + quiet), Math.min(img.height, sy + side + quiet));
  expect(qrInk).toEqual({ minX: sx, minY: sy, maxX: sx + side - 1, maxY: sy + side - 1 });
  // Every other dot of ink is inside the text area (beside or under the QR): no line overflows or wraps out.
  const stray: string[] = [];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const inQuiet = x >= sx - quiet && x < sx + side + quiet && y >= sy - quiet && y < sy + side + quiet;
      const inArea = x >= area.x0 - 1 && x <= area.x1 && y >= area.y0 - 1 && y <= area.y1;
      if (!inQuiet && !inArea && img.data[(y * img.width + x) * 4]! < 128) stray.push(`${x},${y}`);
    }
  }
  expect(stray).toEqual([]);
  // Each text line is one line on its baseline: ink just above the baseline, and none higher than
  // its capitals between it and the line above (a wrapped line would print a line higher).
  let above = area.y0;
  for (const t of readZpl(zpl).fields.filter((f) => f.font)) {
    const h = t.font!.height;
    expect(inkBox(img, area.x0, t.origin.y - Math.round(h / 2), area.x1, t.origin.y), t.text).not.toBeNull();
    const ink = inkBox(img, area.x0, above, area.x1, t.origin.y)!;
    expect(ink.minY, t.text).toBeGreaterThanOrEqual(t.origin.y - Math.ceil(0.85 * h));
    above = t.origin.y + Math.ceil(0.3 * h);
  }
}

describe('golden ZPL files (two sizes × 203 / 300 dpi)', () => {
  for (const g of GOLDEN) {
    it(`${g.file}: the renderer's output, reviewed field by field`, () => {
      const golden = fixture(g.file);
      review(readZpl(golden), g);
      expect(renderLabelZpl(layoutFor(g.size, g.dpi), { dpi: g.dpi })).toBe(golden);
    });

    it(`${g.file}: an independent ZPL interpreter prints a QR that decodes to the payload, where the layout put it; text stays in its area`, async () => {
      const [w, h] = g.size.split('x').map(Number) as [number, number];
      const layout = layoutFor(g.size, g.dpi);
      const area = { x0: g.area[0], x1: g.area[0] + g.area[1], y0: Math.floor(layout.textArea.yMm * g.perMm), y1: Math.ceil((layout.textArea.yMm + layout.textArea.heightMm) * g.perMm) };
      await checkPrinted(fixture(g.file), { widthMm: w, heightMm: h, perMm: g.perMm, symbol: g.symbol, side: VERSION1_MODULES * g.mag, quiet: 4 * g.mag, area, payload: DATA.setupPayload });
    });
  }
});

describe('the QR as the preview\'s own bitmap (pixel fidelity)', () => {
  it('the ^GF graphic, decoded from its bytes, is the layout\'s matrix and scans (jsQR) to the payload', () => {
    for (const g of GOLDEN) {
      const layout = layoutFor(g.size, g.dpi);
      const format = readZpl(renderLabelZpl(layout, { dpi: g.dpi, qr: 'bitmap' }));
      const graphics = format.fields.filter((f) => f.graphic);
      expect(graphics).toHaveLength(1);
      expect(format.fields.some((f) => f.qr)).toBe(false);
      const field = graphics[0]!;
      expect([field.origin.x, field.origin.y]).toEqual(g.symbol); // ^FO is the symbol's corner: no offset for graphics
      const img = graphicOnLabel(field, g.pw, g.ll);
      expect(decodeQr(img)).toBe(DATA.setupPayload);
      // module by module: the dot at each module's centre is the matrix's
      const n = layout.qr.matrix.size;
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          const px = ((g.symbol[1] + r * g.mag + (g.mag >> 1)) * g.pw + g.symbol[0] + c * g.mag + (g.mag >> 1)) * 4;
          expect(img.data[px] === 0).toBe(layout.qr.matrix.modules[r]![c]);
        }
      }
    }
  });

  it('is what the independent interpreter prints too', async () => {
    const g = GOLDEN[0];
    const zpl = renderLabelZpl(layoutFor(g.size, g.dpi), { dpi: g.dpi, qr: 'bitmap' });
    const img = await renderZpl(zpl, 40, 30, g.perMm);
    expect(decodeQr(crop(img, 0, 0, g.area[0], g.ll))).toBe(DATA.setupPayload);
  });

  it('is used whenever the printer\'s own QR could not match the layout: magnification above 10 (600 dpi)', () => {
    const layout = layoutFor('40x30', 600);
    expect(layout.qr.moduleMm * 24).toBe(19); // 0.79 mm modules = 19 dots
    const format = readZpl(renderLabelZpl(layout, { dpi: 600 }));
    expect(format.fields.some((f) => f.qr)).toBe(false);
    const field = format.fields.find((f) => f.graphic)!;
    expect(decodeQr(graphicOnLabel(field, format.width, format.length))).toBe(DATA.setupPayload);
  });

  it('…and a symbol too close to the top edge for the firmware\'s 10-dot QR offset', () => {
    // 12 × 12 mm, stacked, margin 0.5 mm, 0.25 mm modules at 203 dpi: the symbol starts 8 dots down.
    const layout = layoutLabel({ size: { widthMm: 12, heightMm: 12 }, marginMm: 0.5, minModuleMm: 0.25, minCodeFontMm: 2, printerDpi: zplLayoutDpi(203) }, { setupPayload: DATA.setupPayload, setupCode: DATA.setupCode });
    expect(layout.arrangement).toBe('stacked');
    expect((layout.qr.yMm + 4 * layout.qr.moduleMm) * 8).toBe(8);
    const format = readZpl(renderLabelZpl(layout, { dpi: 203 }));
    expect(format.fields.some((f) => f.qr)).toBe(false);
    expect(decodeQr(graphicOnLabel(format.fields.find((f) => f.graphic)!, format.width, format.length))).toBe(DATA.setupPayload);
  });
});

describe('renderLabelZpl', () => {
  it('the widest texts a profile accepts stay on one line inside the text area when printed', async () => {
    const mac = 'DD:DD:DD:DD:DD:DD';
    for (const size of ['40x30', '25x25', '50x25'] as const) {
      for (const dpi of [203, 300] as const) {
        // The longest name the layout still fits (Helvetica widths), as a profile check would allow.
        let name = 'Outdoor Smart Plug Pro Max with Energy Monitor';
        while (validateLabelSpec({ size, ...SPEC, printerDpi: zplLayoutDpi(dpi) }, { productName: name, mac, unit: WORST_CASE_UNIT_LINE }).length) name = name.slice(0, -1).trimEnd();
        const data = { ...DATA, productName: name, mac, unit: WORST_CASE_UNIT_LINE, setupPayload: 'X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S', setupCode: '' };
        data.setupCode = setupCodeInPayload(data.setupPayload);
        const layout = layoutFor(size, dpi, {}, data);
        const perMm = dpi === 203 ? 8 : 12;
        const mag = Math.round(layout.qr.moduleMm * perMm);
        const inset = 4 * layout.qr.moduleMm;
        const dot = (mm: number) => Math.floor(mm * perMm + 0.5 + 1e-6);
        const a = layout.textArea;
        await checkPrinted(renderLabelZpl(layout, { dpi }), {
          widthMm: layout.widthMm, heightMm: layout.heightMm, perMm, payload: data.setupPayload,
          symbol: [dot(layout.qr.xMm + inset), dot(layout.qr.yMm + inset)], side: layout.qr.matrix.size * mag, quiet: 4 * mag,
          area: { x0: dot(a.xMm), x1: dot(a.xMm + a.widthMm), y0: Math.floor(a.yMm * perMm), y1: Math.ceil((a.yMm + a.heightMm) * perMm) },
        });
      }
    }
  }, 180_000);

  it('escapes ^, ~, _, backslash and non-ASCII text so field data can never end a field or start a command', () => {
    const name = 'Lamp^XZ~JA_50% \\ Café €';
    const layout = layoutFor('50x25', 300, {}, { ...DATA, productName: name });
    const zpl = renderLabelZpl(layout, { dpi: 300 });
    const line = zpl.split('\n').find((l) => l.includes('Lamp'))!;
    expect(line).toBe('^FT290,165^A0N,22,20^FB298,1,0,C^FH_^FDLamp_5EXZ_7EJA_5F50% \\\\ Caf_C3_A9 _E2_82_AC^FS');
    const field = readZpl(zpl).fields.find((f: ZplField) => f.text?.startsWith('Lamp'))!;
    expect(field.text).toBe(name);
    expect(/[^\x20-\x7e\n]/.test(zpl)).toBe(false); // plain ASCII on the wire
  });

  it('darkness and speed when the profile sets them', () => {
    const zpl = renderLabelZpl(layoutFor('40x30', 203), { dpi: 203, darkness: 7, speed: 4 });
    expect(zpl.startsWith('~SD07\n^XA\n')).toBe(true);
    expect(zpl).toContain('\n^PR4\n');
  });

  it('refuses what a ZPL printer cannot print, naming the element and never the code', () => {
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
    const withLogo = layoutLabel({ size: '50x25', logo: { dataUrl: png, widthMm: 6, heightMm: 4 }, printerDpi: zplLayoutDpi(203) }, DATA);
    expect(() => renderLabelZpl(withLogo, { dpi: 203 })).toThrow(/^logo: a ZPL label printer cannot print the logo/);
    const notForThisPrinter = layoutLabel({ size: '40x30', ...SPEC }, DATA);
    expect(() => renderLabelZpl(notForThisPrinter, { dpi: 203 })).toThrow(/^qr: modules of .* are not a whole number of printer dots/);
    const tiny = layoutFor('40x30', 203, { textFontMm: 1.1 });
    const err = (() => { try { renderLabelZpl(tiny, { dpi: 203 }); } catch (e) { return e as Error; } })()!;
    expect(err).toBeInstanceOf(LabelLayoutError);
    expect(err.message).toMatch(/^productName: text of 1.1 mm is below the printer font's smallest size \(10 dots\)/);
    expect(err.message).not.toContain('518');
    expect(() => renderLabelZpl(layoutFor('40x30', 203), { dpi: 203, darkness: 31 })).toThrow(/darkness must be a whole number from 0 to 30/);
  });
});
