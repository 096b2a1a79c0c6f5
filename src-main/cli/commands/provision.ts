// `factory-station provision`: the whole station pipeline for one unit, headless.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { writeFileAtomicSync } from '../../fs/index.ts';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, INIT_DB_OPTION, openStationDb } from '../db-option.ts';
import { DEFAULT_RETRY_MS } from '../../registry/postgres-engine.ts';
import { VERSION } from '../version.ts';
import { loadProfile, type LoadedProfile } from '../../station/profile-file.ts';
import { Station, type ProvisionOutcome } from '../../station/station.ts';
import type { Registry } from '../../registry/index.ts';
import { VirtualChipRegistry, CHIP_KINDS, type VirtualChip, type VirtualChipKind } from '../../virtual-chip/index.ts';
import { ProfileError } from '../../../shared/station/profile.ts';
import { printProvisionedLabel, withZplPrinter, type ZplLabelOutcome } from '../zpl-printer-option.ts';

export const DEF: CommandDef = {
  program: 'factory-station provision',
  summary: 'Provision the unit on a serial port: identity reserved, factory NVS flashed and verified, label written.',
  synopsis: ['--profile FILE --port PORT [options]'],
  description: `Reads the unit's MAC, reserves a fresh HomeKit identity for it in the production database (or
finds the one it already has), builds and flashes its factory NVS image, verifies it, records it
and writes its label (SVG + PDF). The setup code is never printed in the human output: it is on
the label (and in the database); --json includes it only with --show-code. The unit is recorded
'done' once its label files are written (the files are the CLI's deliverable); with --printer,
once the label printer confirms the label.
The engineer's tool: no engineer PIN is asked for, even for a PIN-locked profile.`,
  options: {
    profile: { type: 'string', arg: 'FILE', help: 'product profile (JSON); required' },
    port: { type: 'string', arg: 'PORT', help: `serial port (/dev/ttyUSB0, COM3), or ${CHIP_KINDS.map((c) => `virtual:${c}`).join(' | ')}; required` },
    ...DB_OPTION,
    ...INIT_DB_OPTION,
    'label-out': { type: 'string', arg: 'DIR', default: './labels', help: 'where the label SVG + PDF go' },
    printer: { type: 'string', arg: 'zpl://HOST[:PORT]', help: 'also print the label on this ZPL label printer (port 9100 by default) and wait for its confirmation; the unit is done only then' },
    reflash: { type: 'boolean', help: 'confirm re-flashing a unit that already holds an identity (its own identity)' },
    pool: { type: 'boolean', help: 'take the identity from the imported pool instead of generating one' },
    'pool-empty': { type: 'string', arg: 'stop|fresh', default: 'stop', help: 'with --pool, when the pool is empty: stop (nothing written, exit 5) or give a fresh identity' },
    operator: { type: 'string', arg: 'NAME', default: '$USER', help: 'recorded with the unit' },
    station: { type: 'string', arg: 'NAME', default: 'this host name', help: 'recorded with the unit' },
    'virtual-state': { type: 'string', arg: 'FILE', help: 'virtual ports: load/save the virtual chip (chip, MAC, flash) so it can be re-plugged' },
    verify: { type: 'string', arg: 'md5|readback', default: "the profile's, else md5", help: 'how the write is verified' },
    json: { type: 'boolean', help: 'print one JSON object (no setup code unless --show-code)' },
    'show-code': { type: 'boolean', help: 'with --json: include the setup code (for a label printing pipeline)' },
  },
  examples: [
    'factory-station provision --profile examples/fan/profile.json --port /dev/ttyUSB0',
    'factory-station provision --profile examples/fan/profile.json --port virtual:esp32c3 --virtual-state unit1.json',
    'factory-station provision --profile fan.json --port /dev/ttyUSB0 --db postgres://station@line-db:5432/line --pool',
  ],
  exitCodes: {
    ...COMMON_EXIT_CODES,
    1: 'failed (stage, message and next step on stderr)',
    3: 'the unit already holds a completed identity: run again with --reflash',
    4: 'provisioned, but the label printer did not confirm the label (the unit stays "label pending"; reprint with factory-station label --unit N --printer …)',
    5: 'the identity pool is empty (--pool, --pool-empty stop): no identity was given and nothing was written to the unit',
  },
};

/** The station's next steps speak of the app's buttons; on the command line it is the command again. */
function cliNextStep(text: string): string {
  return text.replace(/press Retry/gi, 'run the same command again').replace(/press Provision/gi, 'run provision');
}

interface VirtualState { chip: VirtualChipKind; mac: string }

async function loadVirtualChip(registry: VirtualChipRegistry, port: string, statePath: string | undefined): Promise<VirtualChip> {
  const kind = port.slice('virtual:'.length) as VirtualChipKind;
  if (!CHIP_KINDS.includes(kind)) throw new CliError(`--port ${port}: unknown virtual chip (${CHIP_KINDS.map((c) => `virtual:${c}`).join(', ')})`, 2);
  if (statePath && existsSync(statePath)) {
    const state = readVirtualState(statePath, await readFile(statePath, 'utf8'));
    if (state.chip !== kind) throw new CliError(`--virtual-state ${statePath} holds an ${state.chip}, but --port is virtual:${kind}: use --port virtual:${state.chip} or another state file`, 2);
    const chip = registry.create(port, { chip: state.chip, mac: state.mac, pacing: false });
    if (existsSync(`${statePath}.flash`)) chip.flash.set(new Uint8Array(await readFile(`${statePath}.flash`)));
    return chip;
  }
  return registry.create(port, { chip: kind, pacing: false });
}

function readVirtualState(path: string, text: string): VirtualState {
  let state: Partial<VirtualState>;
  try {
    state = JSON.parse(text) as Partial<VirtualState>;
  } catch (err) {
    throw new CliError(`--virtual-state ${path}: not a virtual chip state file (JSON: ${(err as Error).message})`, 1);
  }
  if (!CHIP_KINDS.includes(state?.chip as VirtualChipKind) || typeof state.mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(state.mac)) {
    throw new CliError(`--virtual-state ${path}: not a virtual chip state file (needs "chip": ${CHIP_KINDS.join('|')} and "mac")`, 1);
  }
  return state as VirtualState;
}

/**
 * Persists the virtual chip synchronously, the moment its flash is written and verified (before the
 * database records it): a real chip's flash survives a station crash, so the simulation must too.
 */
function saveVirtualChip(chip: VirtualChip, statePath: string): void {
  writeFileAtomicSync(`${statePath}.flash`, chip.flash);
  writeFileAtomicSync(statePath, `${JSON.stringify({ chip: chip.options.chip, mac: chip.options.mac })}\n`);
}

type ProvisionValues = Record<string, string | undefined> & { reflash?: boolean; pool?: boolean; json?: boolean; 'show-code'?: boolean };

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as ProvisionValues;
  const { profile, port, poolEmpty } = checkArgs(values);
  const at = (p: string) => resolve(io.cwd, p);
  const loaded = await loadProvisionProfile(at(profile), values.printer);
  const zplPrinter = loaded.profile.printer?.mode === 'zpl' && values.printer !== undefined ? loaded.profile.printer : undefined;
  const registry = new VirtualChipRegistry();
  const statePath = values['virtual-state'] ? at(values['virtual-state']) : undefined;
  const chip = port.startsWith('virtual:') ? await loadVirtualChip(registry, port, statePath) : undefined;
  const stationName = values.station ?? hostname();
  const db = await openStationDb(io, parsed.values, 'provision', { create: true, station: stationName, waitMs: DEFAULT_RETRY_MS });
  // A line's server that stops answering: one line when it goes, one when it is back.
  const offStatus = db.onStatus((s) => io.stderr(`${s.online ? '' : 'warning: '}${s.message}\n`));
  try {
    const station = new Station({
      db, profile: loaded, labelDir: at(values['label-out'] ?? 'labels'), stationName,
      operator: values.operator ?? (io.env.USER || userInfo().username || 'operator'), virtualRegistry: registry, usePool: values.pool, labelCompletes: zplPrinter ? 'pending' : 'done',
      whenPoolEmpty: poolEmpty, verify: values.verify as 'md5' | 'readback' | undefined,
    });
    watchStation(station, io, values, chip, statePath);
    const outcome = await station.provisionNext(port, { confirmReflash: values.reflash });
    if (chip && statePath) saveVirtualChip(chip, statePath);
    let printed: ZplLabelOutcome | undefined;
    if (outcome.kind === 'done' && zplPrinter) printed = await printProvisionedLabel(station, outcome.result.unit.id, zplPrinter);
    if (values.json) io.stdout(`${JSON.stringify(await jsonBody(station, outcome, printed, values['show-code']))}\n`);
    return reportOutcome(io, values, db, outcome, printed);
  } finally {
    offStatus();
    await db.close();
  }
}

/** The option checks, in order; each failing one is a usage error (exit 2). */
function checkArgs(values: ProvisionValues): { profile: string; port: string; poolEmpty: 'stop' | 'fresh' } {
  if (!values.profile) throw new CliError('provision: --profile FILE is required (see factory-station provision --help)', 2);
  if (!values.port) throw new CliError('provision: --port PORT is required (see factory-station provision --help)', 2);
  if (values.verify !== undefined && values.verify !== 'md5' && values.verify !== 'readback') throw new CliError(`provision: --verify must be md5 or readback`, 2);
  if (values['show-code'] && !values.json) throw new CliError('provision: --show-code only goes with --json (the human output never shows the code)', 2);
  const poolEmpty = values['pool-empty'] ?? 'stop';
  if (poolEmpty !== 'stop' && poolEmpty !== 'fresh') throw new CliError('provision: --pool-empty must be stop or fresh', 2);
  if (values['pool-empty'] !== undefined && !values.pool) throw new CliError('provision: --pool-empty goes with --pool', 2);
  return { profile: values.profile, port: values.port, poolEmpty };
}

/** The profile (a bad one is exit 1), with its printer replaced by --printer's ZPL printer if given. */
async function loadProvisionProfile(path: string, printer: string | undefined): Promise<LoadedProfile> {
  let loaded;
  try {
    loaded = await loadProfile(path);
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(err.message, 1);
    throw err;
  }
  if (printer !== undefined) loaded = withZplPrinter(loaded, printer, 'provision');
  return loaded;
}

/** Saves the virtual chip as soon as it is verified, and prints human progress unless --json. */
function watchStation(station: Station, io: CliIO, values: ProvisionValues, chip: VirtualChip | undefined, statePath: string | undefined): void {
  // 'record' is entered after verification and before the database says 'verified'.
  let saved = false;
  if (chip && statePath) station.on('port-state', (e) => {
    if (e.state.phase === 'record' && !saved) (saved = true), saveVirtualChip(chip, statePath);
  });
  // Human progress: one line per stage (the first message of each), on stderr.
  let lastStage = '';
  if (!values.json) station.on('stage', (e) => {
    if (e.stage !== lastStage) io.stderr(`${e.stage}: ${e.message}\n`);
    lastStage = e.stage;
  });
}

/** --json's one object: the outcome; the setup code and payload only with --show-code. */
async function jsonBody(station: Station, outcome: ProvisionOutcome, printed: ZplLabelOutcome | undefined, showCode: boolean | undefined): Promise<object> {
  if (outcome.kind !== 'done') return { ok: false, ...outcome };
  return {
    ok: true, unit: printed ? await station.getUnit(outcome.result.unit.id) : outcome.result.unit, label: outcome.result.labelPdfPath, reflashed: outcome.result.reflashed, timings: outcome.result.timings,
    ...(printed ? { printed: printed.status === 'printed' ? { status: 'printed', printer: printed.printer } : printed } : {}),
    warnings: outcome.result.warnings, ...(showCode ? { setupCode: outcome.result.setupCode, payload: outcome.result.payload } : {}),
  };
}

/** The human lines (the warnings even with --json) and the exit code of an outcome. */
function reportOutcome(io: CliIO, values: ProvisionValues, db: Registry, outcome: ProvisionOutcome, printed: ZplLabelOutcome | undefined): number {
  if (outcome.kind === 'done') {
    const u = outcome.result.unit;
    if (!values.json) io.stdout(`${outcome.result.reflashed ? 're-flashed' : 'provisioned'} ${u.mac} (${u.chip}) as setup ID ${u.setupId}${u.serial ? `, serial ${u.serial}` : ''}; label: ${outcome.result.labelPdfPath}\n`);
    for (const w of outcome.result.warnings) io.stderr(`warning: ${w}\n`);
    if (printed?.status === 'printed' && !values.json) io.stdout(`${printed.note}\n`);
    if (printed?.status === 'failed') {
      if (!values.json) io.stderr(`label not printed: ${printed.message}\nreprint: factory-station label --unit ${u.id} --printer ${values.printer}${values.db ? ` --db ${db.shown}` : ''}\n`);
      return 4;
    }
    return 0;
  }
  if (outcome.kind === 'needs-confirmation') {
    if (!values.json) io.stderr(`unit ${outcome.mac} already holds setup ID ${outcome.setupId}: run again with --reflash to re-flash its own identity\n`);
    return 3;
  }
  if (!values.json) io.stderr(`failed at ${outcome.stage}: ${outcome.message}\nnext: ${cliNextStep(outcome.nextStep)}\n`);
  if (!values.json && outcome.stage === 'boot-check') io.stderr(`the boot log: factory-station history --attempts --failed --boot-log${values.db ? ` --db ${db.shown}` : ''}\n`);
  return outcome.code === 'pool-empty' ? 5 : 1;
}
