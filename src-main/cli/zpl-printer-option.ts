// `--printer zpl://host[:port]` for CLI provisioning: the run prints each label on that ZPL label
// printer instead of only writing files, and the unit counts as done only once the printer confirms
// the label (until then it is "label pending", exactly as in the app; reprint with
// `factory-station label --unit N --printer …`).
import { parseZplUrl, zplAddress, type ZplPrinterSettings } from '../../shared/station/printer.ts';
import { validateProfile } from '../../shared/station/profile.ts';
import { ZplPrinterError } from '../label/zpl-printer.ts';
import { printUnitLabelZpl } from '../station/labels.ts';
import { labelProfileOf } from '../station/pipeline.ts';
import type { LoadedProfile } from '../station/profile-file.ts';
import type { Station } from '../station/station.ts';
import { CliError } from './io.ts';

/**
 * The profile with its printer replaced by the ZPL printer at `url` (resolution, darkness, speed
 * and QR kept when the profile already prints on a ZPL printer; 203 dpi otherwise), checked again:
 * the label must fit the printer's dot grid. Throws CliError (2: a bad URL, 1: a label that does not fit).
 */
export function withZplPrinter(loaded: LoadedProfile, url: string, command: string): LoadedProfile {
  let endpoint: { host: string; port: number };
  try {
    endpoint = parseZplUrl(url);
  } catch (err) {
    throw new CliError(`${command}: --printer ${(err as Error).message}`, 2);
  }
  const own = loaded.profile.printer?.mode === 'zpl' ? loaded.profile.printer : { mode: 'zpl' as const, dpi: 203 as const };
  try {
    return { ...loaded, profile: validateProfile({ ...loaded.profile, printer: { ...own, ...endpoint } }, loaded.path) };
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message}`, 1);
  }
}

export type ZplLabelOutcome = { status: 'printed'; printer: string; note: string } | { status: 'failed'; message: string };

/** Prints a provisioned unit's label on the profile's ZPL printer and tells the Station how it went. */
export async function printProvisionedLabel(station: Station, unitId: number, printer: ZplPrinterSettings): Promise<ZplLabelOutcome> {
  const unit = (await station.db.getUnit(unitId))!;
  const profile = unit.labelProfile ?? labelProfileOf(station.profile);
  station.labelPrinting(unitId);
  try {
    const note = await printUnitLabelZpl(profile, unit, printer);
    await station.labelPrinted(unitId, note);
    return { status: 'printed', printer: `zpl://${zplAddress(printer)}`, note };
  } catch (err) {
    const why = err instanceof ZplPrinterError ? err.message : `The label could not be printed: ${(err as Error).message}.`;
    const message = `${why} The unit stays "label pending" until its label prints.`;
    await station.labelFailed(unitId, message).catch(() => undefined);
    return { status: 'failed', message };
  }
}
