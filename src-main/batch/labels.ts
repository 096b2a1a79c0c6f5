// Label outputs of a batch: the label spec from --label-size, checked before the run starts (a
// label that does not fit must not be discovered after 1000 accessories), and the sheet PDF.
import { BatchError } from './errors.ts';
import { LABEL_PRESETS, validateLabelSpec, type LabelLayout, type LabelSpec } from '../../shared/label/layout.ts';
import { sheetGrid } from '../../shared/label/sheet.ts';
import { labelSize } from '../../shared/label/layout.ts';
import { serialLabelText, widestSerial, type SerialScheme } from '../../shared/station/serial.ts';

/** The batch's label: QR and code, and the serial number line when the batch issues serial numbers. */
export function batchLabelSpec(size: string, serial?: SerialScheme): LabelSpec {
  const extra = serial ? { showSerial: true } : {};
  if (Object.hasOwn(LABEL_PRESETS, size)) return { size: size as keyof typeof LABEL_PRESETS, ...extra };
  const [w, h] = size.split('x').map(Number) as [number, number];
  return { size: { widthMm: w, heightMm: h }, ...extra };
}

/** Throws a BatchError when labels of this size cannot hold the QR and code (or the sheet cannot hold one label). */
export function checkBatchLabels(spec: LabelSpec, paper: 'A4' | 'Letter' | undefined, productData: boolean, serial?: SerialScheme): { perPage?: number } {
  // Worst case: the longer product-data payload needs a bigger QR; the widest serial number.
  const sample = { ...(productData ? {} : { setupPayload: 'X-HM://007JNU5AE7OSX' }), ...(serial ? { serial: serialLabelText(widestSerial(serial)) } : {}) };
  const problems = validateLabelSpec(spec, sample, { forPdf: true });
  if (problems.length) throw new BatchError('input', `--label-size: ${problems.join('; ')}`);
  if (!paper) return {};
  try {
    return { perPage: sheetGrid(labelSize(spec.size), { paper }).perPage };
  } catch (err) {
    throw new BatchError('input', `--label-size: ${(err as Error).message}`);
  }
}

/** The sheet PDF (pdf-lib is loaded only when a sheet is wanted). */
export async function renderSheet(layouts: LabelLayout[], paper: 'A4' | 'Letter'): Promise<Uint8Array> {
  const { renderLabelSheetPdf } = await import('../label/pdf.ts');
  return renderLabelSheetPdf(layouts, { paper, title: 'HomeKit setup labels', cutMarks: true });
}
