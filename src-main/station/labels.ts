// A unit's label: the SVG (label preview, printing from the app), a PDF at the label's exact size
// (the CLI's deliverable, "save as PDF" mode) and the ZPL for a network label printer — all from
// one layout, made for the printer the label goes to. Files carry the setup code, so they are
// written with mode 0600 and named by setup ID + MAC only, never by the code.
import { join } from 'node:path';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { serialLabelText } from '../../shared/station/serial.ts';
import { layoutLabel, renderLabelSvg, renderLabelZpl, type LabelLayout } from '../../shared/label/index.ts';
import { labelSpecForPrinter, zplAddress, type PrinterSettings, type ZplLabelSettings, type ZplPrinterSettings } from '../../shared/station/printer.ts';
import { renderLabelPdf } from '../label/pdf.ts';
import { printZpl, type ZplSendOptions } from '../label/zpl-printer.ts';
import { writeFileAtomic } from '../fs/index.ts';
import type { UnitLabelProfile } from '../registry/index.ts';

/** What a label needs from a unit record. */
export interface LabelUnit {
  id: number;
  product: string;
  mac: string;
  setupId: string;
  setupCode: string;
  payload: string;
  /** Bench slot of the unit's flash, if the station numbers its ports. */
  slot: number | null;
  /** The unit's serial number (on the label with label.showSerial). */
  serial: string | null;
}

/** The label's unit line: the short unit number and the bench slot ("Unit 1234 · Slot 3"). */
export function unitLine(unit: Pick<LabelUnit, 'id' | 'slot'>): string {
  return unit.slot === null ? `Unit ${unit.id}` : `Unit ${unit.id} · Slot ${unit.slot}`;
}

export interface LabelFiles {
  svg: string;
  svgPath: string;
  pdfPath: string;
}

/** The unit's label laid out for `printer` (default: the one kept with its label profile). */
export function unitLabelLayout(
  profile: UnitLabelProfile,
  unit: LabelUnit,
  printer: PrinterSettings | ({ mode: 'zpl' } & ZplLabelSettings) | undefined = profile.printer,
): LabelLayout {
  // A unit recorded before its product had serial numbers has none: its label goes without the line.
  const spec = profile.label.showSerial && unit.serial === null ? { ...profile.label, showSerial: false } : profile.label;
  return layoutLabel(labelSpecForPrinter(spec, printer), {
    setupPayload: unit.payload,
    setupCode: formatSetupCode(unit.setupCode),
    productName: profile.productName,
    mac: unit.mac.toUpperCase(),
    unit: unitLine(unit),
    ...(unit.serial !== null ? { serial: serialLabelText(unit.serial) } : {}),
  });
}

/** File name stem: product, setup ID and MAC (unique per unit; no secret in it). */
export function labelFileStem(unit: LabelUnit): string {
  return `${unit.product}-${unit.setupId}-${unit.mac.replace(/:/g, '')}`;
}

/** Writes `<stem>.svg` and `<stem>.pdf` into `dir` (atomically, 0600) and returns the SVG text. */
export async function writeUnitLabel(profile: UnitLabelProfile, unit: LabelUnit, dir: string): Promise<LabelFiles> {
  const layout = unitLabelLayout(profile, unit);
  const svg = renderLabelSvg(layout);
  const stem = join(dir, labelFileStem(unit));
  const svgPath = `${stem}.svg`;
  const pdfPath = `${stem}.pdf`;
  await writeFileAtomic(svgPath, svg, 0o600);
  await writeFileAtomic(pdfPath, await renderLabelPdf(layout, { title: `Setup label ${unit.setupId}` }), 0o600);
  return { svg, svgPath, pdfPath };
}

/** The unit's label as a ZPL format (secret: it carries the setup code). */
export function unitLabelZpl(profile: UnitLabelProfile, unit: LabelUnit, zpl: ZplLabelSettings): string {
  const layout = unitLabelLayout(profile, unit, { mode: 'zpl', ...zpl });
  return renderLabelZpl(layout, { dpi: zpl.dpi, darkness: zpl.darkness, speed: zpl.speed, qr: zpl.qr });
}

/**
 * Prints the unit's label on a ZPL printer and waits for the printer to confirm it (see
 * label/zpl-printer.ts). Returns the note for the records; throws ZplPrinterError, or
 * LabelLayoutError when the label cannot be made for this printer.
 */
export async function printUnitLabelZpl(profile: UnitLabelProfile, unit: LabelUnit, printer: ZplPrinterSettings, options?: ZplSendOptions): Promise<string> {
  const zpl = unitLabelZpl(profile, unit, printer);
  const result = await printZpl(printer, zpl, options);
  return `Printed on ${zplAddress(printer)} (ZPL)${result.warning ? `; now: ${result.warning}` : ''}`;
}
