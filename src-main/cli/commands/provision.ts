// `factory-station provision`: the whole station pipeline for one unit, headless.
import { readFile } from 'node:fs/promises';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import { parseCliArgs } from '../args.ts';
import { ProductionDb } from '../../station/db.ts';
import { loadProfile } from '../../station/profile-file.ts';
import { Station } from '../../station/station.ts';
import { VirtualChipRegistry, CHIP_KINDS, type VirtualChip, type VirtualChipKind } from '../../virtual-chip/index.ts';
import { ProfileError } from '../../../shared/station/profile.ts';
import { printProvisionedLabel, withZplPrinter, type ZplLabelOutcome } from '../zpl-printer-option.ts';

export const USAGE = `usage: factory-station provision --profile P.json --port PATH|virtual:esp32 [options]

Provisions the unit on PATH: reads its MAC, reserves a fresh HomeKit identity for it in the
production database (or finds the one it already has), builds and flashes its factory NVS image,
verifies it, records it and writes its label (SVG + PDF). The setup code is never printed in the
human output: it is on the label (and in the database); --json includes it only with --show-code.
The unit is recorded 'done' once its label files are written (the files are the CLI's deliverable);
with --printer, once the label printer confirms the label.

exit codes: 0 done, 1 failed (stage, message and next step on stderr), 2 bad usage,
            3 the unit already holds a completed identity: run again with --reflash,
            4 provisioned, but the label printer did not confirm the label (the unit stays
              "label pending"; reprint with factory-station label --unit N --printer …)

options:
  --profile FILE        product profile (JSON)
  --port PATH           serial port, or virtual:esp32 | virtual:esp32s3 | virtual:esp32c3
  --db FILE             production database (default ./station.db)
  --label-out DIR       where the label PDF goes (default ./labels)
  --printer zpl://HOST[:PORT]  also print the label on this ZPL label printer (port 9100 by
                        default) and wait for its confirmation; the unit is done only then
  --reflash             confirm re-flashing a unit that already holds an identity (its own identity)
  --pool                take the identity from the imported pool instead of generating one
  --operator NAME       recorded with the unit (default $USER)
  --station NAME        recorded with the unit (default: host name)
  --virtual-state FILE  virtual ports: load/save the virtual chip (MAC + flash) so it can be re-plugged
  --verify md5|readback  how the write is verified (default: the profile's, else md5)
  --json                print one JSON object (no setup code unless --show-code)
  --show-code           with --json: include the setup code (for a label printing pipeline)
  -h, --help            show this help
`;

const OPTIONS = {
  profile: { type: 'string' }, port: { type: 'string' }, db: { type: 'string' }, 'label-out': { type: 'string' },
  reflash: { type: 'boolean' }, pool: { type: 'boolean' }, operator: { type: 'string' }, station: { type: 'string' },
  'virtual-state': { type: 'string' }, json: { type: 'boolean' }, 'show-code': { type: 'boolean' }, verify: { type: 'string' }, printer: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface VirtualState { chip: VirtualChipKind; mac: string }

async function loadVirtualChip(registry: VirtualChipRegistry, port: string, statePath: string | undefined): Promise<VirtualChip> {
  const kind = port.slice('virtual:'.length) as VirtualChipKind;
  if (!CHIP_KINDS.includes(kind)) throw new CliError(`--port ${port}: unknown virtual chip (virtual:esp32, virtual:esp32s3 or virtual:esp32c3)`, 2);
  if (statePath && existsSync(statePath)) {
    const state = JSON.parse(await readFile(statePath, 'utf8')) as VirtualState;
    const chip = registry.create(port, { chip: state.chip, mac: state.mac, pacing: false });
    if (existsSync(`${statePath}.flash`)) chip.flash.set(new Uint8Array(await readFile(`${statePath}.flash`)));
    return chip;
  }
  return registry.create(port, { chip: kind, pacing: false });
}

/**
 * Persists the virtual chip synchronously, the moment its flash is written and verified (before the
 * database records it): a real chip's flash survives a station crash, so the simulation must too.
 */
function saveVirtualChip(chip: VirtualChip, statePath: string): void {
  const write = (path: string, data: Uint8Array | string) => {
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  };
  write(`${statePath}.flash`, chip.flash);
  write(statePath, `${JSON.stringify({ chip: chip.options.chip, mac: chip.options.mac })}\n`);
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCliArgs(argv, OPTIONS, USAGE);
  if (values.help) return (io.stdout(USAGE), 0);
  if (!values.profile) throw new CliError(`provision: --profile is required\n${USAGE}`, 2);
  if (!values.port) throw new CliError(`provision: --port is required\n${USAGE}`, 2);
  if (values.verify !== undefined && values.verify !== 'md5' && values.verify !== 'readback') throw new CliError(`provision: --verify must be md5 or readback`, 2);
  if (values['show-code'] && !values.json) throw new CliError('provision: --show-code only goes with --json (the human output never shows the code)', 2);
  const at = (p: string) => resolve(io.cwd, p);
  let loaded;
  try {
    loaded = await loadProfile(at(values.profile));
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(err.message, 1);
    throw err;
  }
  if (values.printer !== undefined) loaded = withZplPrinter(loaded, values.printer, 'provision');
  const zplPrinter = loaded.profile.printer?.mode === 'zpl' && values.printer !== undefined ? loaded.profile.printer : undefined;
  const port = values.port;
  const registry = new VirtualChipRegistry();
  const statePath = values['virtual-state'] ? at(values['virtual-state']) : undefined;
  const chip = port.startsWith('virtual:') ? await loadVirtualChip(registry, port, statePath) : undefined;
  const db = ProductionDb.open(at(values.db ?? 'station.db'));
  try {
    const station = new Station({
      db, profile: loaded, labelDir: at(values['label-out'] ?? 'labels'), stationName: values.station ?? (io.env.HOSTNAME || 'station'),
      operator: values.operator ?? (io.env.USER || 'operator'), virtualRegistry: registry, usePool: values.pool, labelCompletes: zplPrinter ? 'pending' : 'done',
      verify: values.verify as 'md5' | 'readback' | undefined,
    });
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
    const outcome = await station.provisionNext(port, { confirmReflash: values.reflash });
    if (chip && statePath) saveVirtualChip(chip, statePath);
    let printed: ZplLabelOutcome | undefined;
    if (outcome.kind === 'done' && zplPrinter) printed = await printProvisionedLabel(station, outcome.result.unit.id, zplPrinter);
    if (values.json) {
      const body = outcome.kind === 'done'
        ? {
            ok: true, unit: printed ? station.getUnit(outcome.result.unit.id) : outcome.result.unit, label: outcome.result.labelPdfPath, reflashed: outcome.result.reflashed, timings: outcome.result.timings,
            ...(printed ? { printed: printed.status === 'printed' ? { status: 'printed', printer: printed.printer } : printed } : {}),
            warnings: outcome.result.warnings, ...(values['show-code'] ? { setupCode: outcome.result.setupCode, payload: outcome.result.payload } : {}),
          }
        : { ok: false, ...outcome };
      io.stdout(`${JSON.stringify(body)}\n`);
    }
    if (outcome.kind === 'done') {
      const u = outcome.result.unit;
      if (!values.json) io.stdout(`${outcome.result.reflashed ? 're-flashed' : 'provisioned'} ${u.mac} (${u.chip}) as setup ID ${u.setupId}; label: ${outcome.result.labelPdfPath}\n`);
      for (const w of outcome.result.warnings) io.stderr(`warning: ${w}\n`);
      if (printed?.status === 'printed' && !values.json) io.stdout(`${printed.note}\n`);
      if (printed?.status === 'failed') {
        if (!values.json) io.stderr(`label not printed: ${printed.message}\nreprint: factory-station label --unit ${u.id} --printer ${values.printer}${values.db ? ` --db ${values.db}` : ''}\n`);
        return 4;
      }
      return 0;
    }
    if (outcome.kind === 'needs-confirmation') {
      if (!values.json) io.stderr(`unit ${outcome.mac} already holds setup ID ${outcome.setupId}: run again with --reflash to re-flash its own identity\n`);
      return 3;
    }
    if (!values.json) io.stderr(`failed at ${outcome.stage}: ${outcome.message}\nnext: ${outcome.nextStep}\n`);
    return 1;
  } finally {
    db.close();
  }
}
