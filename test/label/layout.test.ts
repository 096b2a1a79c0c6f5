import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LABEL_PRESETS,
  LabelLayoutError,
  layoutLabel,
  validateLabelSpec,
  type LabelData,
  type LabelLayout,
  type LabelSpec,
} from '../../shared/label/layout.ts';
import { helveticaTextWidthEm } from '../../shared/label/helvetica-metrics.ts';
import { setupCodeInPayload, setupCodeLines } from '../../shared/label/label-data.ts';

// ADK example: setup code 518-08-582, setup ID 7OSX (payloads.json).
const DATA: LabelData = { setupPayload: 'X-HM://0071WK4SM7OSX', setupCode: '518-08-582' };
const FULL: LabelData = { ...DATA, productName: 'Smart Plug Mini', serial: 'SN 000123', mac: 'AA:BB:CC:DD:EE:FF' };
const ALL_LINES = { showProductName: true, showSerial: true, showMac: true };
// Helvetica advance widths (AFM): digits 556, hyphen 333.
const DASHED_EM = (8 * 556 + 2 * 333) / 1000;
const FOUR_EM = (4 * 556) / 1000;

function layoutError(fn: () => unknown): LabelLayoutError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LabelLayoutError);
    return err as LabelLayoutError;
  }
  throw new Error('expected a LabelLayoutError');
}

/** Invariants every layout must satisfy: inside the label, outside margins, no overlaps. */
function expectWellFormed(layout: LabelLayout, marginMm = 1): void {
  const { qr } = layout;
  const tol = 1e-6;
  expect(qr.sizeMm).toBeCloseTo((qr.matrix.size + 8) * qr.moduleMm, 9);
  expect(qr.xMm).toBeGreaterThanOrEqual(-tol);
  expect(qr.yMm).toBeGreaterThanOrEqual(-tol);
  expect(qr.xMm + qr.sizeMm).toBeLessThanOrEqual(layout.widthMm + tol);
  expect(qr.yMm + qr.sizeMm).toBeLessThanOrEqual(layout.heightMm + tol);
  expect(qr.xMm + 4 * qr.moduleMm).toBeGreaterThanOrEqual(marginMm - tol);
  expect(qr.yMm + 4 * qr.moduleMm).toBeGreaterThanOrEqual(marginMm - tol);
  const boxes = layout.texts.map((t) => ({ x: t.xMm, y: t.topMm, w: t.widthMm, h: t.heightMm }));
  if (layout.logo) boxes.push({ x: layout.logo.xMm, y: layout.logo.yMm, w: layout.logo.widthMm, h: layout.logo.heightMm });
  for (const [i, b] of boxes.entries()) {
    expect(b.x).toBeGreaterThanOrEqual(marginMm - tol);
    expect(b.y).toBeGreaterThanOrEqual(marginMm - tol);
    expect(b.x + b.w).toBeLessThanOrEqual(layout.widthMm - marginMm + tol);
    expect(b.y + b.h).toBeLessThanOrEqual(layout.heightMm - marginMm + tol);
    const hitsQr = b.x < qr.xMm + qr.sizeMm - tol && b.x + b.w > qr.xMm + tol && b.y < qr.yMm + qr.sizeMm - tol && b.y + b.h > qr.yMm + tol;
    expect(hitsQr).toBe(false);
    for (const o of boxes.slice(i + 1)) {
      expect(b.y + b.h <= o.y + tol || o.y + o.h <= b.y + tol).toBe(true);
    }
  }
  for (const t of layout.texts) {
    expect(t.widthMm).toBeCloseTo(helveticaTextWidthEm(t.text) * t.fontSizeMm, 9);
    // Glyphs (cap height above, descender below the baseline; digits have none) stay in the line box.
    const descender = t.element === 'setupCode' ? 0 : 0.207;
    expect(t.baselineMm - 0.718 * t.fontSizeMm).toBeGreaterThanOrEqual(t.topMm - tol);
    expect(t.baselineMm + descender * t.fontSizeMm).toBeLessThanOrEqual(t.topMm + t.heightMm + tol);
  }
}

describe('presets', () => {
  it('are the three documented sizes', () => {
    expect(LABEL_PRESETS).toEqual({
      '40x30': { widthMm: 40, heightMm: 30 },
      '25x25': { widthMm: 25, heightMm: 25 },
      '50x25': { widthMm: 50, heightMm: 25 },
    });
  });

  for (const size of ['40x30', '25x25', '50x25'] as const) {
    for (const codeStyle of ['dashed', 'groups-of-four'] as const) {
      for (const lines of [{}, ALL_LINES]) {
        it(`${size} ${codeStyle}${lines === ALL_LINES ? ' with all text lines' : ''} is well formed`, () => {
          const layout = layoutLabel({ size, codeStyle, ...lines }, FULL);
          expect(layout.widthMm).toBe(LABEL_PRESETS[size].widthMm);
          expect(layout.heightMm).toBe(LABEL_PRESETS[size].heightMm);
          expect(layout.qr.moduleMm).toBeGreaterThanOrEqual(0.3);
          expect(layout.qr.matrix.version).toBe(1);
          expect(layout.texts.filter((t) => t.element === 'setupCode').map((t) => t.text)).toEqual(
            codeStyle === 'dashed' ? ['518-08-582'] : ['5180', '8582'],
          );
          expect(layout.texts.map((t) => t.element)).toEqual([
            ...(codeStyle === 'dashed' ? ['setupCode'] : ['setupCode', 'setupCode']),
            ...(lines === ALL_LINES ? ['productName', 'serial', 'mac'] : []),
          ]);
          expectWellFormed(layout);
        });
      }
    }
  }
});

describe('geometry (hand-derived from the rules)', () => {
  it('40×30 groups of four: QR fills the height (module 30/29 mm), code fills the column', () => {
    const l = layoutLabel({ size: '40x30', codeStyle: 'groups-of-four' }, DATA);
    expect(l.arrangement).toBe('side');
    // Vertical limit: min(30/29, (30 − 2)/21) = 30/29; the quiet zone starts at the label edge.
    expect(l.qr.moduleMm).toBeCloseTo(30 / 29, 12);
    expect(l.qr).toMatchObject({ xMm: 0, quietZoneModules: 4 });
    expect(l.qr.yMm).toBeCloseTo(0, 12);
    expect(l.qr.sizeMm).toBeCloseTo(30, 12);
    // Column from 30 mm to 39 mm: 9 mm for "5180" (2.224 em).
    for (const t of l.texts) expect(t.fontSizeMm).toBeCloseTo(9 / FOUR_EM, 9);
  });

  it('25×25 dashed: QR above the code; module (25 − 1 − 3 × 1.1)/29 mm; code at 3 mm, centred', () => {
    const l = layoutLabel({ size: '25x25' }, DATA);
    expect(l.arrangement).toBe('stacked');
    expect(l.qr.moduleMm).toBeCloseTo(20.7 / 29, 12);
    expect(l.qr.xMm).toBeCloseTo((25 - 20.7) / 2, 12);
    const [code] = l.texts;
    expect(code!.fontSizeMm).toBeCloseTo(3, 12);
    expect(code!.xMm).toBeCloseTo((25 - 3 * DASHED_EM) / 2, 9);
  });

  it('side by side is kept unless stacking gains ≥ 5 % module size (25×25 groups of four)', () => {
    // Side: (25 − 1 − 3 × 2.224)/29 = 0.5975 mm; stacked: (25 − 1 − 2 × 3.3)/29 = 0.6 mm (+0.4 %).
    const l = layoutLabel({ size: '25x25', codeStyle: 'groups-of-four' }, DATA);
    expect(l.arrangement).toBe('side');
    expect(l.qr.moduleMm).toBeCloseTo((24 - 3 * FOUR_EM) / 29, 12);
  });

  it('50×25 dashed: side by side, module 25/29 mm, code sized to the 24 mm column', () => {
    const l = layoutLabel({ size: '50x25' }, DATA);
    expect(l.arrangement).toBe('side');
    expect(l.qr.moduleMm).toBeCloseTo(25 / 29, 12);
    expect(l.texts[0]!.fontSizeMm).toBeCloseTo(24 / DASHED_EM, 9);
  });

  it('printerDpi snaps the module to whole printer dots (203 dpi: 8 dots = 1.001 mm)', () => {
    const l = layoutLabel({ size: '40x30', codeStyle: 'groups-of-four', printerDpi: 203 }, DATA);
    expect(l.qr.moduleMm).toBeCloseTo((8 * 25.4) / 203, 12);
  });

  it('the code never exceeds maxCodeFontMm', () => {
    const l = layoutLabel({ size: { widthMm: 100, heightMm: 40 }, codeStyle: 'groups-of-four' }, DATA);
    expect(l.texts[0]!.fontSizeMm).toBe(8);
    expectWellFormed(l);
  });

  it('a custom size and margin are honoured', () => {
    const l = layoutLabel({ size: { widthMm: 30, heightMm: 15 }, marginMm: 1.5, showSerial: true }, FULL);
    expect(l.widthMm).toBe(30);
    expectWellFormed(l, 1.5);
  });

  it('is deterministic', () => {
    const spec: LabelSpec = { size: '40x30', ...ALL_LINES };
    expect(JSON.stringify(layoutLabel(spec, FULL))).toBe(JSON.stringify(layoutLabel(spec, FULL)));
  });

  it('accepts the code without hyphens and keeps leading zeros', () => {
    // payloads.json: category 5, code 01234567 → X-HM://005JSM45JLGHT
    const l = layoutLabel({ size: '40x30' }, { setupPayload: 'X-HM://005JSM45JLGHT', setupCode: '01234567' });
    expect(l.texts[0]!.text).toBe('012-34-567');
    const g = layoutLabel({ size: '40x30', codeStyle: 'groups-of-four' }, { setupPayload: 'X-HM://005JSM45JLGHT', setupCode: '012-34-567' });
    expect(g.texts.map((t) => t.text)).toEqual(['0123', '4567']);
  });

  it('a logo (data URL) is placed below the text and kept inside the label', () => {
    const png = 'data:image/png;base64,' + readFileSync(new URL('../fixtures/label/qr/qr-nomargin.png', import.meta.url)).toString('base64');
    const l = layoutLabel({ size: '50x25', showProductName: true, logo: { dataUrl: png, widthMm: 8, heightMm: 4 } }, FULL);
    expect(l.logo).toMatchObject({ widthMm: 8, heightMm: 4, mimeType: 'image/png', dataUrl: png });
    expect(l.logo!.yMm).toBeGreaterThan(l.texts.at(-1)!.topMm);
    expectWellFormed(l);
  });
});

describe('errors', () => {
  it('a long product name on 25×25 names productName and the overflow', () => {
    const name = 'Living Room Ceiling Fan Controller';
    const err = layoutError(() => layoutLabel({ size: '25x25', showProductName: true }, { ...DATA, productName: name }));
    expect(err.element).toBe('productName');
    const overflow = helveticaTextWidthEm(name) * 1.8 - 23;
    expect(err.overflowMm).toBeCloseTo(overflow, 9);
    expect(err.message).toMatch(/^productName: .*overflow \d+(\.\d+)? mm/);
  });

  it('text lines taller than the label name the first element that crosses the bottom', () => {
    // 8 mm high: 6 mm inside margins; code 3.3 mm + gap 0.6 + name 2.16 = 6.06 mm.
    const err = layoutError(() => layoutLabel({ size: { widthMm: 60, heightMm: 8 }, ...ALL_LINES }, FULL));
    expect(err.element).toBe('productName');
    expect(err.overflowMm).toBeCloseTo(3.3 + 0.6 + 3 * 2.16 - 6, 9);
  });

  it('a code wider than the label is a setupCode error', () => {
    const err = layoutError(() => layoutLabel({ size: { widthMm: 15, heightMm: 15 } }, DATA));
    expect(err.element).toBe('setupCode');
    expect(err.overflowMm).toBeCloseTo(3 * DASHED_EM - 13, 9);
  });

  it('a QR below the minimum module size is a qr error; a lower minimum accepts it', () => {
    // Side by side: (16 − 1 − 6.672)/29 = 0.287 mm; stacked: (10 − 1 − 6.6)/29 = 0.083 mm.
    const spec: LabelSpec = { size: { widthMm: 16, heightMm: 10 }, codeStyle: 'groups-of-four' };
    const err = layoutError(() => layoutLabel(spec, DATA));
    expect(err.element).toBe('qr');
    expect(err.message).toMatch(/0\.29 mm, below the 0\.3 mm minimum/);
    expect(layoutLabel({ ...spec, minModuleMm: 0.25 }, DATA).qr.moduleMm).toBeCloseTo((16 - 1 - 6 * 0.556 * 2) / 29, 9);
  });

  it('a code that differs from the payload is refused without revealing either code', () => {
    const err = layoutError(() => layoutLabel({ size: '40x30' }, { ...DATA, setupCode: '518-08-583' }));
    expect(err.element).toBe('setupCode');
    expect(err.message).not.toMatch(/\d{3}/);
  });

  it('rejects malformed codes and payloads', () => {
    expect(layoutError(() => layoutLabel({ size: '40x30' }, { ...DATA, setupCode: '518-085-82' })).element).toBe('setupCode');
    expect(layoutError(() => layoutLabel({ size: '40x30' }, { ...DATA, setupPayload: 'x-hm://0071wk4sm7osx' })).element).toBe('setupPayload');
  });

  it('a shown line without a value, or with characters Helvetica lacks, names the line', () => {
    expect(layoutError(() => layoutLabel({ size: '40x30', showSerial: true }, DATA)).element).toBe('serial');
    const err = layoutError(() => layoutLabel({ size: '40x30', showProductName: true }, { ...DATA, productName: 'Lampe 灯' }));
    expect(err.element).toBe('productName');
    expect(err.message).toContain('U+706F');
  });

  it('rejects bad spec numbers and unknown presets', () => {
    expect(layoutError(() => layoutLabel({ size: { widthMm: -5, heightMm: 30 } }, DATA)).element).toBe('label');
    expect(layoutError(() => layoutLabel({ size: '40x30', marginMm: 20 }, DATA)).element).toBe('label');
    expect(layoutError(() => layoutLabel({ size: '99x99' as '40x30' }, DATA)).element).toBe('label');
    expect(layoutError(() => layoutLabel({ size: '40x30', logo: { dataUrl: 'https://example.com/x.png', widthMm: 5, heightMm: 5 } }, DATA)).element).toBe('logo');
  });

  it('property: random text either lays out well formed or fails with a LabelLayoutError', () => {
    const text = fc.string({ unit: fc.constantFrom(...'AaWw1i .-:Éé'.split('')), minLength: 1, maxLength: 40 });
    let laidOut = 0;
    fc.assert(
      fc.property(
        fc.record({ w: fc.integer({ min: 10, max: 80 }), h: fc.integer({ min: 10, max: 60 }) }),
        fc.constantFrom('dashed', 'groups-of-four' as const),
        text,
        text,
        fc.boolean(),
        ({ w, h }, codeStyle, productName, serial, showMac) => {
          const spec: LabelSpec = { size: { widthMm: w, heightMm: h }, codeStyle: codeStyle as LabelSpec['codeStyle'], showProductName: true, showSerial: true, showMac };
          let layout: LabelLayout;
          try {
            layout = layoutLabel(spec, { ...FULL, productName, serial });
          } catch (err) {
            expect(err).toBeInstanceOf(LabelLayoutError);
            return;
          }
          expectWellFormed(layout);
          expect(layout.qr.moduleMm).toBeGreaterThanOrEqual(0.3 - 1e-9);
          laidOut++;
        },
      ),
      { numRuns: 300 },
    );
    expect(laidOut).toBeGreaterThan(30); // the property is not vacuous
  });
});

describe('validateLabelSpec', () => {
  it('no problems for the presets with the worst-case payload', () => {
    for (const size of ['40x30', '25x25', '50x25'] as const) expect(validateLabelSpec({ size, showMac: true })).toEqual([]);
  });

  it('reports an overflowing sample product name', () => {
    const problems = validateLabelSpec({ size: '25x25', showProductName: true }, { productName: 'Living Room Ceiling Fan Controller' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^productName: /);
  });

  it('uses the longer product-data payload by default (version 2 QR)', () => {
    // 25×25 stacked: 20.7 mm for the QR → version 1 (29 modules) 0.714 mm, version 2 (33) 0.627 mm.
    const spec: LabelSpec = { size: '25x25', minModuleMm: 0.65 };
    expect(validateLabelSpec(spec, { setupPayload: DATA.setupPayload })).toEqual([]);
    expect(validateLabelSpec(spec)).toEqual([expect.stringMatching(/^qr: .*version 2/)]);
  });

  it('flags SVG logos for PDF output unless told otherwise', () => {
    const svg = 'data:image/svg+xml;base64,' + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>');
    const spec: LabelSpec = { size: '50x25', logo: { dataUrl: svg, widthMm: 6, heightMm: 4 } };
    expect(validateLabelSpec(spec)).toEqual([expect.stringMatching(/^logo: SVG/)]);
    expect(validateLabelSpec(spec, {}, { forPdf: false })).toEqual([]);
  });
});

describe('setup code inside payloads (payloads.json vectors)', () => {
  const vectors = JSON.parse(readFileSync(new URL('../fixtures/label/payloads.json', import.meta.url), 'utf8')).vectors as {
    setup_code: string | null;
    payload: string;
  }[];
  it('extracts every vector code, leading zeros kept', () => {
    const withCode = vectors.filter((v) => v.setup_code !== null);
    expect(withCode.length).toBeGreaterThan(20);
    for (const v of withCode) expect(setupCodeInPayload(v.payload)).toBe(v.setup_code);
  });

  it('formats both spellings', () => {
    expect(setupCodeLines('00000001', 'dashed')).toEqual(['000-00-001']);
    expect(setupCodeLines('000-00-001', 'groups-of-four')).toEqual(['0000', '0001']);
  });
});
