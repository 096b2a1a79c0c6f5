// Where things go on the label: the QR module size for each arrangement (text beside the QR or
// under it), snapped to printer dots, the choice between the two, the positions of the QR and of
// each stacked item, and a final guard that nothing leaves its area. Text sizes come from
// text-stack.ts; this file only does the geometry.
import { LabelLayoutError, type LabelElement } from './errors.ts';
import { decodeLogoDataUrl } from './label-data.ts';
import type { LabelLogo, ResolvedSpec } from './label-spec.ts';
import type { LabelLayout, LabelLogoPlacement, LabelTextLine } from './layout-model.ts';
import { QR_QUIET_ZONE_MODULES, type QrMatrix } from './qr.ts';
import { codeFontFor, EPS, fmt, stackAt, stackHeight, stackWidth, textLine, type StackContent, type StackItem } from './text-stack.ts';

/** The stacked arrangement must give modules at least this much larger to be chosen. */
const STACKED_MIN_GAIN = 1.05;

export interface Candidate {
  arrangement: 'side' | 'stacked';
  moduleMm: number;
}

interface Area {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Largest module for a QR centred in [0, extent] with dark modules ≥ margin from both ends. */
function maxModuleCentred(extentMm: number, marginMm: number, n: number): number {
  return Math.min(extentMm / (n + 2 * QR_QUIET_ZONE_MODULES), (extentMm - 2 * marginMm) / n);
}

/**
 * Largest module for a QR starting at max(0, margin − quiet zone) in [0, extent], the far end
 * bordering text (no margin there, the quiet zone separates them).
 */
function maxModuleFromStart(extentMm: number, marginMm: number, n: number): number {
  const q = QR_QUIET_ZONE_MODULES;
  const whole = extentMm / (n + 2 * q);
  // When the quiet zone is wider than the margin it may start at the label edge.
  return q * whole >= marginMm ? whole : (extentMm - marginMm) / (n + q);
}

function snapModule(moduleMm: number, printerDpi: number | undefined): number {
  if (!printerDpi) return moduleMm;
  const dotMm = 25.4 / printerDpi;
  return Math.floor(moduleMm / dotMm + EPS) * dotMm;
}

/**
 * Side by side or stacked, whichever gives the larger QR module for the stack at its minimum
 * size; throws when even that module is below the spec's minimum.
 */
export function chooseArrangement(r: ResolvedSpec, matrix: QrMatrix, minStack: StackItem[]): Candidate {
  const n = matrix.size;
  const m = r.marginMm;
  const minStackW = stackWidth(minStack);
  const minStackH = stackHeight(minStack);
  const side: Candidate = {
    arrangement: 'side',
    moduleMm: snapModule(
      Math.min(maxModuleCentred(r.heightMm, m, n), maxModuleFromStart(r.widthMm - m - minStackW, m, n)),
      r.printerDpi,
    ),
  };
  const stacked: Candidate = {
    arrangement: 'stacked',
    moduleMm: snapModule(
      Math.min(maxModuleCentred(r.widthMm, m, n), maxModuleFromStart(r.heightMm - m - minStackH, m, n)),
      r.printerDpi,
    ),
  };
  // Side by side reads best (code next to the QR, as on retail labels); stack only for a clearly larger QR.
  const best = stacked.moduleMm > side.moduleMm * STACKED_MIN_GAIN ? stacked : side;
  if (!(best.moduleMm >= r.minModuleMm - EPS)) {
    throw new LabelLayoutError(
      'qr',
      `modules would be ${fmt(Math.max(best.moduleMm, 0))} mm, below the ${r.minModuleMm} mm minimum: the label is too small for a scannable QR (version ${matrix.version}, ${n + 2 * QR_QUIET_ZONE_MODULES} modules with quiet zone) next to the text`,
    );
  }
  return best;
}

/** Top-left of the QR (with quiet zone) and the region beside or under it for the text stack. */
function qrAndTextArea(chosen: Candidate, r: ResolvedSpec, box: number): { qrX: number; qrY: number; area: Area } {
  const q = QR_QUIET_ZONE_MODULES;
  const m = r.marginMm;
  const mod = chosen.moduleMm;
  if (chosen.arrangement === 'side') {
    const qrX = Math.max(0, m - q * mod);
    const qrY = (r.heightMm - box) / 2;
    const x = qrX + box;
    return { qrX, qrY, area: { x, y: m, w: r.widthMm - m - x, h: r.heightMm - 2 * m } };
  }
  const qrX = (r.widthMm - box) / 2;
  const qrY = Math.max(0, m - q * mod);
  const y = qrY + box;
  return { qrX, qrY, area: { x: m, y, w: r.widthMm - 2 * m, h: r.heightMm - m - y } };
}

/** The stack centred in its area, each item centred horizontally. */
function placeStack(stack: StackItem[], area: Area, logo: LabelLogo | undefined): { texts: LabelTextLine[]; logo?: LabelLogoPlacement } {
  let top = area.y + (area.h - stackHeight(stack)) / 2;
  const texts: LabelTextLine[] = [];
  let logoPlacement: LabelLogoPlacement | undefined;
  for (const item of stack) {
    top += item.gapBeforeMm;
    const x = area.x + (area.w - item.widthMm) / 2;
    if (item.element === 'logo') {
      const decoded = decodeLogoDataUrl(logo!.dataUrl);
      logoPlacement = { xMm: x, yMm: top, widthMm: item.widthMm, heightMm: item.heightMm, dataUrl: logo!.dataUrl, mimeType: decoded.mimeType };
    } else {
      texts.push(textLine(item, x, top));
    }
    top += item.heightMm;
  }
  return logoPlacement ? { texts, logo: logoPlacement } : { texts };
}

/** The finished layout for the chosen arrangement: the code grows into the text area's free space. */
export function place(
  chosen: Candidate,
  r: ResolvedSpec,
  content: StackContent,
  matrix: QrMatrix,
  qrData: string,
  logo: LabelLogo | undefined,
): LabelLayout {
  const q = QR_QUIET_ZONE_MODULES;
  const mod = chosen.moduleMm;
  const box = (matrix.size + 2 * q) * mod;
  const { qrX, qrY, area } = qrAndTextArea(chosen, r, box);
  const stack = stackAt(content, codeFontFor(content, r, area.w, area.h));
  const placed = placeStack(stack, area, logo);
  return {
    widthMm: r.widthMm,
    heightMm: r.heightMm,
    arrangement: chosen.arrangement,
    qr: { xMm: qrX, yMm: qrY, sizeMm: box, moduleMm: mod, quietZoneModules: q, matrix, data: qrData },
    texts: placed.texts,
    ...(placed.logo ? { logo: placed.logo } : {}),
    textArea: { xMm: area.x, yMm: area.y, widthMm: area.w, heightMm: area.h },
  };
}

/** Guard against layout bugs: nothing may leave the label, enter the margin or touch the QR. */
export function assertInside(layout: LabelLayout, r: ResolvedSpec): void {
  const m = r.marginMm;
  const tol = 1e-6;
  const { qr } = layout;
  const inset = qr.quietZoneModules * qr.moduleMm;
  const qrOk =
    qr.xMm >= -tol && qr.yMm >= -tol &&
    qr.xMm + qr.sizeMm <= layout.widthMm + tol && qr.yMm + qr.sizeMm <= layout.heightMm + tol &&
    qr.xMm + inset >= m - tol && qr.yMm + inset >= m - tol &&
    qr.xMm + qr.sizeMm - inset <= layout.widthMm - m + tol && qr.yMm + qr.sizeMm - inset <= layout.heightMm - m + tol;
  if (!qrOk) throw new LabelLayoutError('qr', 'internal layout error: QR outside the label');
  const boxes: { element: LabelElement; x: number; y: number; w: number; h: number }[] = layout.texts.map((t) => ({
    element: t.element, x: t.xMm, y: t.topMm, w: t.widthMm, h: t.heightMm,
  }));
  if (layout.logo) boxes.push({ element: 'logo', x: layout.logo.xMm, y: layout.logo.yMm, w: layout.logo.widthMm, h: layout.logo.heightMm });
  for (const b of boxes) {
    const inside = b.x >= m - tol && b.y >= m - tol && b.x + b.w <= layout.widthMm - m + tol && b.y + b.h <= layout.heightMm - m + tol;
    const overlapsQr = b.x < qr.xMm + qr.sizeMm - tol && b.x + b.w > qr.xMm + tol && b.y < qr.yMm + qr.sizeMm - tol && b.y + b.h > qr.yMm + tol;
    if (!inside || overlapsQr) throw new LabelLayoutError(b.element, 'internal layout error: element outside its area');
  }
}
