// `factory-station label`: a provisioned unit's label as ZPL — written to a file (the engineer's
// preview, or another print path) and/or printed on a ZPL label printer over the network, waiting
// for the printer's confirmation (the headless twin of Print again / Reprint). Made from the label
// settings kept with the unit, so a reprint always shows its own product.
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, openStationDb } from '../db-option.ts';
import { VERSION } from '../version.ts';
import { LabelLayoutError } from '../../../shared/label/errors.ts';
import { ZPL_DPIS, type ZplDpi } from '../../../shared/label/zpl.ts';
import { parseZplUrl, zplAddress, type ZplLabelSettings } from '../../../shared/station/printer.ts';
import { ProfileError } from '../../../shared/station/profile.ts';
import { ZplPrinterError } from '../../label/zpl-printer.ts';
import { normalizeMac, type Registry, type UnitLabelProfile, type UnitRecord } from '../../registry/index.ts';
import { printUnitLabelZpl, unitLabelZpl } from '../../station/labels.ts';
import { labelProfileOf } from '../../station/pipeline.ts';
import { loadProfile } from '../../station/profile-file.ts';

export const DEF: CommandDef = {
  program: 'factory-station label',
  summary: "Make a provisioned unit's label as ZPL, and/or print it on a ZPL label printer over the network.",
  synopsis: ['(--unit ID | --mac MAC) [--zpl OUT.zpl] [--printer zpl://HOST[:PORT]] [options]'],
  description: `The label comes from the settings kept with the unit (its own product name and label size,
whatever product is active now) and its product's ZPL printer settings. --zpl writes it to a file;
--printer prints it, checking the printer's status before and after: the print counts (and the unit
leaves "label pending") only once the printer confirms it. A failed print is never retried by itself.`,
  options: {
    unit: { type: 'string', arg: 'ID', help: "the unit's number (as in 'factory-station history')" },
    mac: { type: 'string', arg: 'MAC', help: "the unit's MAC, in any form (24:0A:C4:…, 240ac4…)" },
    zpl: { type: 'string', arg: 'FILE', help: 'write the ZPL to FILE (mode 0600: it carries the setup code)' },
    printer: { type: 'string', arg: 'zpl://HOST[:PORT]', help: 'print on this ZPL printer (port 9100 by default)' },
    dpi: { type: 'string', arg: '203|300|600', default: "the product's ZPL printer, else 203", help: 'print head resolution' },
    qr: { type: 'string', arg: 'native|bitmap', help: "the printer's own QR field, or the preview's QR bitmap (pixel fidelity)" },
    profile: { type: 'string', arg: 'FILE', help: 'label settings for units recorded before they were kept with the unit' },
    product: { type: 'string', arg: 'ID', help: 'with --mac: the product, if that MAC was provisioned for several' },
    ...DB_OPTION,
    station: { type: 'string', arg: 'NAME', default: 'this host name', help: 'recorded with the print' },
  },
  examples: ['factory-station label --unit 17 --zpl unit17.zpl --dpi 300', 'factory-station label --mac 24:0a:c4:12:34:56 --printer zpl://192.0.2.10'],
  exitCodes: { ...COMMON_EXIT_CODES, 1: 'failed (the reason on stderr; the unit stays as it was)' },
};

type Values = Record<string, string | undefined>;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as Values;
  if (!values.unit === !values.mac) throw new CliError('label: give the unit with --unit ID or --mac MAC, one of them (see factory-station label --help)', 2);
  if (!values.zpl && !values.printer) throw new CliError('label: nothing to do: give --zpl FILE and/or --printer zpl://host[:port] (see factory-station label --help)', 2);
  const endpoint = values.printer === undefined ? undefined : usage(() => parseZplUrl(values.printer!));
  if (values.dpi !== undefined && !ZPL_DPIS.includes(Number(values.dpi) as ZplDpi)) throw new CliError('label: --dpi must be 203, 300 or 600', 2);
  if (values.qr !== undefined && values.qr !== 'native' && values.qr !== 'bitmap') throw new CliError('label: --qr must be native or bitmap', 2);
  const at = (p: string) => resolve(io.cwd, p);
  const db = await openStationDb(io, parsed.values, 'label', { create: false, station: values.station ?? hostname() });
  try {
    const unit = await findUnit(db, values);
    if (unit.status === 'reserved' || unit.status === 'flashing' || unit.status === 'failed') {
      throw new CliError(`label: unit ${unit.id} (${unit.mac}) was never verified: no label may be made for it (provision it again)`, 1);
    }
    const profile = unit.labelProfile ?? (await profileFromFile(values, unit, at));
    const settings = zplSettings(profile, values);
    if (values.zpl) {
      const zpl = labelError(() => unitLabelZpl(profile, unit, settings));
      await writeFileAtomic(at(values.zpl), zpl, 0o600);
      io.stdout(`label of unit ${unit.id} (${unit.mac}, setup ID ${unit.setupId}): ${at(values.zpl)}\n`);
    }
    if (endpoint) await printAndRecord(db, profile, unit, { ...settings, ...endpoint }, values.station ?? hostname(), io);
    return 0;
  } finally {
    await db.close();
  }
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new CliError(`label: --printer ${(err as Error).message}`, 2);
  }
}

function labelError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof LabelLayoutError) throw new CliError(`label: the label cannot be made for this printer: ${err.message}`, 1);
    throw err;
  }
}

async function findUnit(db: Registry, values: Values): Promise<UnitRecord> {
  if (values.unit !== undefined) {
    const id = Number(values.unit);
    const unit = Number.isInteger(id) && id > 0 ? await db.getUnit(id) : undefined;
    if (!unit) throw new CliError(`label: there is no unit ${values.unit} in the database`, 1);
    return unit;
  }
  let mac: string;
  try {
    mac = normalizeMac(values.mac!);
  } catch {
    throw new CliError(`label: --mac ${values.mac} is not a MAC address (12 hex digits)`, 2);
  }
  const units = (await db.listUnits({ mac, product: values.product })).filter((u) => u.mac === mac);
  if (units.length === 0) throw new CliError(`label: no unit with MAC ${mac}${values.product ? ` in product ${values.product}` : ''}`, 1);
  if (units.length > 1) throw new CliError(`label: MAC ${mac} was provisioned for several products (${units.map((u) => u.product).join(', ')}): add --product`, 2);
  return units[0]!;
}

async function profileFromFile(values: Values, unit: UnitRecord, at: (p: string) => string): Promise<UnitLabelProfile> {
  if (!values.profile) throw new CliError(`label: unit ${unit.id} was recorded before label settings were kept with units: add --profile with its product's profile`, 1);
  try {
    const loaded = await loadProfile(at(values.profile));
    if (loaded.profile.id !== unit.product) throw new CliError(`label: ${values.profile} is product ${loaded.profile.id}, but unit ${unit.id} is ${unit.product}`, 1);
    return labelProfileOf(loaded);
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(err.message, 1);
    throw err;
  }
}

/** The product's ZPL printer settings (if it prints on one), with the command line's overrides. */
function zplSettings(profile: UnitLabelProfile, values: Values): ZplLabelSettings {
  const own = profile.printer?.mode === 'zpl' ? profile.printer : undefined;
  return {
    dpi: values.dpi !== undefined ? (Number(values.dpi) as ZplDpi) : (own?.dpi ?? 203),
    ...(own?.darkness === undefined ? {} : { darkness: own.darkness }),
    ...(own?.speed === undefined ? {} : { speed: own.speed }),
    ...((values.qr ?? own?.qr) ? { qr: (values.qr ?? own!.qr) as 'native' | 'bitmap' } : {}),
  };
}

/** Prints, and records the print like the app does: the unit leaves "label pending" only on success. */
async function printAndRecord(db: Registry, profile: UnitLabelProfile, unit: UnitRecord, printer: Parameters<typeof printUnitLabelZpl>[2], station: string, io: CliIO): Promise<void> {
  const attempt = { station, product: unit.product, port: null, slot: unit.slot, unitId: unit.id, mac: unit.mac, kind: 'print' as const };
  let note: string;
  try {
    note = await printUnitLabelZpl(profile, unit, printer);
  } catch (err) {
    if (err instanceof LabelLayoutError) throw new CliError(`label: the label cannot be made for this printer: ${err.message}`, 1);
    if (!(err instanceof ZplPrinterError)) throw err;
    await db.attempts.record({ ...attempt, outcome: 'failed', stage: 'label', code: 'printer', message: err.message });
    throw new CliError(`label: not printed: ${err.message}`, 1);
  }
  const after = await db.markLabelPrinted(unit.id, { awaitScan: profile.scanBack ?? false });
  await db.attempts.record({ ...attempt, outcome: 'ok', message: note });
  io.stdout(`printed the label of unit ${unit.id} (${unit.mac}) on zpl://${zplAddress(printer)}; unit ${after.status}\n`);
}
