// Sends one unit's label out — to the system printer its product names, to a ZPL label printer on
// the network, or to a PDF in labels/printed — and tells the Station how it went: the unit's tile
// shows "Printing", then done / awaiting its scan, or amber "print failed" until a print succeeds.
// The label's content and size are the ones kept with the unit (a reprint after a product switch
// still prints its own product); the printer is where that product prints now (a broken printer
// replaced in Settings takes the reprints). A ZPL print counts only once the printer confirms it
// (station/labels.ts printUnitLabelZpl); it is never retried automatically.
import { join } from 'node:path';
import { labelSize } from '../../shared/label/index.ts';
import type { LabelOutcome } from '../../shared/ipc.ts';
import { zplAddress } from '../../shared/station/printer.ts';
import { ensureDirSync } from '../fs/index.ts';
import { ZplPrinterError } from '../label/zpl-printer.ts';
import { printUnitLabelZpl } from '../station/labels.ts';
import { labelProfileOf } from '../station/pipeline.ts';
import type { Station } from '../station/station.ts';
import { AppError } from './errors.ts';
import { checkPrinterName, type LabelJob } from './label-page.ts';
import type { Platform } from './app-options.ts';

export async function deliverLabel(station: Station, platform: Platform, labelsDir: string, unitId: number, svg: string, pdfPath: string | null = null): Promise<LabelOutcome> {
  const unit = await station.db.getUnit(unitId);
  if (!unit) throw new AppError('not-found', `Unit ${unitId} is not in the database.`);
  const active = labelProfileOf(station.profile);
  const profile = unit.labelProfile ?? active;
  const printer = unit.product === station.profile.profile.id ? active.printer : profile.printer;
  const job: LabelJob = { svg, size: labelSize(profile.label.size), pdfPath };
  station.labelPrinting(unitId);
  try {
    let outcome: LabelOutcome;
    let note: string;
    if (printer?.mode === 'print') {
      const wanted = printer?.name;
      if (!wanted) throw new AppError('printer', 'No printer is chosen for this product: choose one in Settings, then press Print again.');
      let name: string;
      try {
        name = checkPrinterName(wanted, await platform.listPrinters());
      } catch (err) {
        throw new AppError('printer', (err as Error).message);
      }
      await platform.printLabel(job, name);
      outcome = { status: 'printed', unitId, printer: name };
      note = `Printed on ${name}`;
    } else if (printer?.mode === 'zpl') {
      note = await printUnitLabelZpl(profile, unit, printer);
      outcome = { status: 'printed', unitId, printer: `zpl://${zplAddress(printer)}` };
    } else {
      const dir = join(labelsDir, 'printed');
      ensureDirSync(dir);
      const path = join(dir, `${unit.product}-${unit.setupId}-${unit.mac.replace(/:/g, '')}.pdf`);
      await platform.saveLabelPdf(job, path);
      outcome = { status: 'saved', unitId, path };
      note = `Saved as PDF: ${path}`;
    }
    await station.labelPrinted(unitId, note);
    return outcome;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const message =
      err instanceof AppError ? err.message
      : err instanceof ZplPrinterError ? `${why} The unit stays "label pending" until its label prints.`
      : `The label could not be printed: ${why}. The unit stays "label pending" — fix the printer and press Print again.`;
    await station.labelFailed(unitId, message).catch(() => undefined);
    throw new AppError('printer', message);
  }
}
