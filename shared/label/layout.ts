// Label layout model: where the QR, the setup code and the optional lines go on a label, in mm.
// Pure and deterministic, so the Electron preview, the PDF files and the batch sheets agree, and
// a label that does not fit is refused here instead of being clipped by a printer.
//
// This file is the entry point (layoutLabel, validateLabelSpec) and re-exports the public types.
// The work is split: label-spec.ts (sizes, presets, defaults, spec checks), text-stack.ts (text
// lines, widths, code size), placement.ts (QR size, arrangement, positions), layout-model.ts (the
// result renderers draw from).
import { LabelLayoutError } from './errors.ts';
import { checkCodeMatchesPayload, setupCodeInPayload } from './label-data.ts';
import { resolveSpec, type LabelData, type LabelSpec } from './label-spec.ts';
import type { LabelLayout } from './layout-model.ts';
import { assertInside, chooseArrangement, place } from './placement.ts';
import { qrMatrix } from './qr.ts';
import { checkStackFits, stackAt, stackContent } from './text-stack.ts';

export { LabelLayoutError, type LabelElement } from './errors.ts';
export type { CodeStyle } from './label-data.ts';
export { LABEL_DEFAULTS, LABEL_PRESETS, labelSize } from './label-spec.ts';
export type { LabelData, LabelLogo, LabelPreset, LabelSize, LabelSpec } from './label-spec.ts';
export type {
  LabelLayout,
  LabelLogoPlacement,
  LabelQrPlacement,
  LabelTextElement,
  LabelTextLine,
} from './layout-model.ts';

/** Lays out one label. Throws LabelLayoutError if anything would not fit or is invalid. */
export function layoutLabel(spec: LabelSpec, data: LabelData): LabelLayout {
  return layoutInternal(spec, data, false);
}

/**
 * Profile-time check: lays the label out with worst-case sample data and returns the problems
 * (empty = fine). Sample fields not given default to: the 38-character product-data payload
 * form (largest QR), MAC `DD:DD:DD:DD:DD:DD` (widest hex digits); a shown product name or serial
 * without a sample reserves its line but cannot be width-checked — pass the longest you will print.
 * With `forPdf` (default true) an SVG logo is reported, as PDF output takes PNG/JPEG only.
 */
export function validateLabelSpec(
  spec: LabelSpec,
  sample: Partial<LabelData> = {},
  options: { forPdf?: boolean } = {},
): string[] {
  const problems: string[] = [];
  try {
    const setupPayload = sample.setupPayload ?? WORST_CASE_PAYLOAD;
    const data: LabelData = {
      setupPayload,
      setupCode: sample.setupCode ?? setupCodeInPayload(setupPayload),
      productName: sample.productName,
      serial: sample.serial,
      mac: sample.mac ?? 'DD:DD:DD:DD:DD:DD',
      unit: sample.unit ?? WORST_CASE_UNIT_LINE,
    };
    const layout = layoutInternal(spec, data, true);
    if ((options.forPdf ?? true) && layout.logo?.mimeType === 'image/svg+xml') {
      problems.push('logo: SVG logos cannot be drawn into PDF labels; use a PNG or JPEG logo');
    }
  } catch (err) {
    if (err instanceof LabelLayoutError) problems.push(err.message);
    else throw err;
  }
  return problems;
}

/** Widest unit line the station prints: a 7-digit unit number in a 2-digit slot. */
export const WORST_CASE_UNIT_LINE = 'Unit 8888888 · Slot 88';

// Espressif README example with product data: version 2 at M, 3 at Q.
const WORST_CASE_PAYLOAD = 'X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S';

function layoutInternal(spec: LabelSpec, data: LabelData, allowMissing: boolean): LabelLayout {
  const r = resolveSpec(spec);
  checkCodeMatchesPayload(data.setupCode, data.setupPayload);
  const content = stackContent(spec, r, data, allowMissing);
  const matrix = qrMatrix(data.setupPayload, r.errorCorrectionLevel);
  const minStack = stackAt(content, r.minCodeFontMm);
  checkStackFits(minStack, r, r.widthMm - 2 * r.marginMm, r.heightMm - 2 * r.marginMm);
  const best = chooseArrangement(r, matrix, minStack);
  const layout = place(best, r, content, matrix, data.setupPayload, spec.logo);
  assertInside(layout, r);
  return layout;
}
