// `factory-station flash --port PATH --partitions CSV|BIN --factory-nvs BIN [...]`
// Builds and checks the write plan, flashes it through esptool-js, verifies, resets the chip.
// `--port virtual:<chip>` (any chip of the chip table) flashes an in-process virtual chip.
import { dirname, resolve } from 'node:path';
import { CliError, describeFsError, writeFileAtomic, type CliIO } from '../io.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { VERSION } from '../version.ts';
import { buildWritePlan, type FlashPlan } from '../../flash/plan.ts';
import { flashDevice, type FlashResult } from '../../flash/flasher.ts';
import { FlashError } from '../../flash/errors.ts';
import { isChipName, hex, type ChipName } from '../../flash/chips.ts';
import { CHIP_IDS, chipIdList } from '../../../shared/chips.ts';

const VIRTUAL_PORTS = CHIP_IDS.map((c) => `virtual:${c}`).join(' | ');
import { createPortOpener, isVirtualPath } from '../../flash/open-port.ts';
import type { FlashProgress } from '../../flash/session.ts';
import { VirtualChipRegistry, virtualPortOpener, type VirtualChip } from '../../virtual-chip/index.ts';
import { readInputFile } from '../../fs/index.ts';

const USAGE_EXIT = 2;

export const DEF: CommandDef = {
  program: 'factory-station flash',
  summary: 'Flash a partition table + factory NVS image (+ the firmware of an ESP-IDF build) onto a chip, verify it, reset it.',
  synopsis: ['--port PORT --partitions CSV|BIN --factory-nvs BIN [options]'],
  description: `Writes through the chip's serial bootloader, verifies every region by MD5 (or reads the NVS
back), and resets the chip into its firmware. Regions already on flash are not written again.`,
  options: {
    port: { type: 'string', arg: 'PORT', help: `serial port (a pty too, e.g. from factory-station virtual-chip), or ${VIRTUAL_PORTS}; required` },
    partitions: { type: 'string', arg: 'FILE', help: 'partition table, CSV or binary; required' },
    'factory-nvs': { type: 'string', arg: 'FILE', help: "factory NVS image (written to the 'factory_nvs' partition); required" },
    'flasher-args': { type: 'string', arg: 'FILE', help: 'ESP-IDF build/flasher_args.json: also write bootloader, app, otadata…' },
    chip: { type: 'string', arg: 'CHIP', help: `refuse any other chip (${CHIP_IDS.join(', ')})` },
    'table-offset': { type: 'string', arg: 'N', default: "the build's, else 0x8000", help: 'partition table offset' },
    baud: { type: 'string', arg: 'N', default: '921600', help: 'baud rate after connecting (falls back to 115200)' },
    verify: { type: 'string', arg: 'md5|readback', default: 'md5', help: 'md5: check every region; readback: also read back and parse the NVS' },
    'expect-mac': { type: 'string', arg: 'MAC', help: 'refuse to write unless the chip has this MAC' },
    before: { type: 'string', arg: 'default-reset|no-reset', default: 'default-reset', help: 'default-reset pulses EN/IO0 into download mode; no-reset leaves the lines alone (board already in download mode; a device without DTR/RTS is used so)' },
    after: { type: 'string', arg: 'hard-reset|no-reset', default: 'hard-reset', help: 'hard-reset boots the new firmware; no-reset stays in the loader' },
    'no-reset': { type: 'boolean', help: 'same as --after no-reset' },
    loader: { type: 'string', arg: 'auto|rom|stub', default: 'auto', help: "auto uploads the flasher stub only when it pays off for this job; rom writes with the chip's ROM loader (esptool --no-stub); stub always uploads it" },
    json: { type: 'boolean', help: 'print one JSON object (chip, MAC, regions, timings)' },
    dump: { type: 'string', arg: 'FILE', help: "virtual ports only: write the virtual chip's whole flash to FILE afterwards" },
    'no-pacing': { type: 'boolean', help: 'virtual ports only: no baud-rate pacing (fast)' },
    'flash-size': { type: 'string', arg: 'SIZE', default: '4MB', help: "virtual ports only: the virtual chip's flash size, e.g. 2MB", aliases: ['virtual-flash-size'] },
    'virtual-mac': { type: 'string', arg: 'MAC', default: 'random', help: "virtual ports only: the virtual chip's MAC" },
  },
  examples: [
    'factory-station flash --port /dev/ttyUSB0 --partitions examples/fan/partitions.csv --factory-nvs fan_factory.bin --flasher-args examples/fan/build/flasher_args.json',
    'factory-station flash --port virtual:esp32c3 --partitions examples/fan/partitions.csv --factory-nvs fan_factory.bin --dump flash.bin',
  ],
  exitCodes: { ...COMMON_EXIT_CODES, 1: 'failed: the message names the cause (no such port, in use, no download mode, verify mismatch …)' },
};

/** Kept for callers that print the help. */
export const USAGE = helpText(DEF);

export interface FlashCommandDeps {
  /** Registry for virtual ports; a chip already registered at --port is used as is (tests). */
  virtualRegistry?: VirtualChipRegistry;
  signal?: AbortSignal;
}

function usageError(message: string): never {
  throw new CliError(`factory-station flash: ${message} (see factory-station flash --help)`, USAGE_EXIT);
}

/** esptool spells these with dashes (v5) or underscores (v4); both are accepted. */
function resetOption(value: string | undefined, name: string, allowed: string[]): string | undefined {
  if (value === undefined) return undefined;
  const v = value.replace(/_/g, '-');
  if (!allowed.includes(v)) usageError(`${name} must be ${allowed.join(' or ')}, got '${value}'`);
  return v;
}

function parseNumber(text: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isSafeInteger(n)) usageError(`${what} must be a number, got '${text}'`);
  return n;
}

function parseSize(text: string): number {
  const m = /^(\d+)\s*(k|kb|m|mb)?$/i.exec(text.trim());
  if (!m) usageError(`invalid --flash-size '${text}' (e.g. 4MB)`);
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1048576 : 1);
}

async function readInput(io: CliIO, path: string, what: string): Promise<Uint8Array> {
  try {
    return await readInputFile(resolve(io.cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`flash: ${what} ${path}: ${code ? describeFsError(code) : (err as Error).message}`);
  }
}

type FlashValues = Record<string, string | undefined> & { json?: boolean; 'no-reset'?: boolean; 'no-pacing'?: boolean };

/** The checked options: everything the run needs besides the files. */
interface FlashArgs {
  port: string;
  partitions: string;
  factoryNvs: string;
  before?: 'default-reset' | 'no-reset';
  after?: 'hard-reset' | 'no-reset';
  baud?: number;
  tableOffset?: number;
  virtual: boolean;
}

export async function run(argv: string[], io: CliIO, deps: FlashCommandDeps = {}): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as FlashValues;
  const args = checkArgs(values);

  // Inputs and the plan first: a bad input never touches the device.
  const plan = await readPlan(io, values, args);
  for (const w of plan.warnings) io.stderr(`warning: ${w}\n`);

  let chip: VirtualChip | undefined;
  const registry = deps.virtualRegistry ?? (args.virtual ? new VirtualChipRegistry() : undefined);
  if (args.virtual && registry) {
    chip = registry.get(args.port) ?? createVirtualChip(registry, args.port, values);
  }

  const { result, failure } = await flashWithProgress(io, values, args, plan, registry, deps.signal);
  if (chip && values.dump) {
    await writeFileAtomic(resolve(io.cwd, values.dump), chip.flash);
  }
  if (failure) throw asCliError(failure, values.json, io);
  const r = result!;
  if (values.json) {
    io.stdout(`${JSON.stringify(toJson(r, plan))}\n`);
  } else {
    printSummary(io, r, values.verify === 'readback', !values['no-reset'] && args.after !== 'no-reset');
  }
  return 0;
}

/** The option checks, in order; each failing one is a usage error. */
function checkArgs(values: FlashValues): FlashArgs {
  const port = values.port;
  if (!port) usageError('--port is required');
  if (!values.partitions) usageError('--partitions is required');
  if (!values['factory-nvs']) usageError('--factory-nvs is required');
  if (values.chip !== undefined && !isChipName(values.chip)) usageError(`--chip must be ${chipIdList()}, got '${values.chip}'`);
  if (values.verify !== undefined && values.verify !== 'md5' && values.verify !== 'readback') usageError(`--verify must be md5 or readback, got '${values.verify}'`);
  const before = resetOption(values.before, '--before', ['default-reset', 'no-reset']) as 'default-reset' | 'no-reset' | undefined;
  const after = resetOption(values.after, '--after', ['hard-reset', 'no-reset']) as 'hard-reset' | 'no-reset' | undefined;
  if (values.loader !== undefined && !['auto', 'rom', 'stub'].includes(values.loader)) usageError(`--loader must be auto, rom or stub, got '${values.loader}'`);
  const baud = values.baud === undefined ? undefined : parseNumber(values.baud, '--baud');
  if (baud !== undefined && (baud < 9600 || baud > 5_000_000)) usageError(`--baud ${baud} is out of range (9600..5000000)`);
  const tableOffset = values['table-offset'] === undefined ? undefined : parseNumber(values['table-offset'], '--table-offset');
  const virtual = isVirtualPath(port);
  if (!virtual) {
    for (const opt of ['dump', 'no-pacing', 'flash-size', 'virtual-mac'] as const) {
      if (values[opt] !== undefined) usageError(`--${opt} only works with a virtual: port`);
    }
  }
  return { port, partitions: values.partitions, factoryNvs: values['factory-nvs'], before, after, baud, tableOffset, virtual };
}

/** Reads the input files and builds the write plan (a bad plan is reported as JSON too with --json). */
async function readPlan(io: CliIO, values: FlashValues, args: FlashArgs): Promise<FlashPlan> {
  const partitionTable = await readInput(io, args.partitions, 'partition table');
  const factoryNvs = await readInput(io, args.factoryNvs, 'factory NVS image');
  const flasherArgs = values['flasher-args'] ? await readFlasherArgs(io, values['flasher-args']) : undefined;
  try {
    return await buildWritePlan({ partitionTable, factoryNvs, flasherArgs, tableOffset: args.tableOffset, expectedChip: values.chip as ChipName | undefined });
  } catch (err) {
    throw asCliError(err, values.json, io);
  }
}

async function readFlasherArgs(io: CliIO, file: string): Promise<{ json: unknown; baseDir: string }> {
  const path = resolve(io.cwd, file);
  const text = new TextDecoder().decode(await readInput(io, file, 'flasher args'));
  try {
    return { json: JSON.parse(text), baseDir: dirname(path) };
  } catch (err) {
    throw new CliError(`flash: ${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Flashes the plan with the progress line; a failure is returned (the caller dumps a virtual chip first). */
async function flashWithProgress(
  io: CliIO, values: FlashValues, args: FlashArgs, plan: FlashPlan, registry: VirtualChipRegistry | undefined, signal: AbortSignal | undefined,
): Promise<{ result?: FlashResult; failure?: unknown }> {
  const progress = progressPrinter(io, Boolean(values.json));
  try {
    const result = await flashDevice(args.port, plan, {
      ...(registry ? { openPort: virtualPortOpener(registry, createPortOpener()) } : {}),
      baud: args.baud,
      verify: (values.verify as 'md5' | 'readback' | undefined) ?? 'md5',
      expectMac: values['expect-mac'],
      before: args.before,
      after: values['no-reset'] ? 'no-reset' : args.after,
      loader: values.loader as 'auto' | 'rom' | 'stub' | undefined,
      signal,
      onProgress: progress.update,
    });
    return { result };
  } catch (err) {
    return { failure: err };
  } finally {
    progress.end();
  }
}

function createVirtualChip(registry: VirtualChipRegistry, port: string, values: Record<string, string | boolean | undefined>): VirtualChip {
  const kind = port.slice('virtual:'.length);
  if (!isChipName(kind)) usageError(`unknown virtual chip '${port}' (${VIRTUAL_PORTS})`);
  try {
    return registry.create(port, {
      chip: kind,
      pacing: !values['no-pacing'],
      flashSize: typeof values['flash-size'] === 'string' ? parseSize(values['flash-size']) : undefined,
      mac: typeof values['virtual-mac'] === 'string' ? values['virtual-mac'] : undefined,
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    usageError((err as Error).message);
  }
}

function asCliError(err: unknown, json: boolean | undefined, io: CliIO): CliError {
  if (err instanceof CliError) return err;
  const fe = err instanceof FlashError ? err : undefined;
  const message = fe ? fe.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  if (json) io.stdout(`${JSON.stringify({ ok: false, error: { code: fe?.code ?? 'internal', stage: fe?.stage, message } })}\n`);
  return new CliError(`flash: ${message}`, 1);
}

function toJson(r: FlashResult, plan: FlashPlan) {
  return {
    ok: true,
    port: r.port,
    chip: r.chip,
    chipDescription: r.device.description,
    mac: r.mac,
    flashSize: r.flashSize,
    baud: r.baud,
    loader: r.loader,
    attempts: r.attempts,
    regions: r.regions.map((x) => ({ name: x.name, offset: hex(x.offset), size: x.size, md5: x.md5, compressedSize: x.compressedSize, ms: x.ms })),
    nvsPartition: plan.nvsRegion ? { offset: hex(plan.nvsRegion.offset), size: plan.nvsRegion.size } : undefined,
    readback: r.readback,
    timings: r.timings,
    wire: r.wire,
    warnings: r.warnings,
  };
}

function printSummary(io: CliIO, r: FlashResult, readback: boolean, reset: boolean): void {
  const d = r.device;
  io.stdout(`Chip:   ${d.description}, MAC ${d.mac}, ${d.flashSize / 1048576} MB flash, ${r.baud} baud\n`);
  io.stdout('Wrote:\n');
  for (const x of r.regions) {
    io.stdout(`  ${hex(x.offset).padEnd(10)} ${x.name.padEnd(16)} ${String(x.size).padStart(8)} bytes  md5 ${x.md5}${x.unchanged ? '  (already on flash)' : ''}\n`);
  }
  if (r.readback) {
    const nvs = r.readback.nvs;
    io.stdout(`Read back ${r.readback.size} bytes at ${hex(r.readback.offset)}: identical; NVS namespaces: ${nvs.namespaces.join(', ') || '(none)'}, ${nvs.items} items${nvs.problems.length ? `, ${nvs.problems.length} problems` : ''}\n`);
  }
  for (const w of r.warnings) io.stdout(`Note: ${w}\n`);
  const t = r.timings;
  const resetDone = reset && r.device.modemLines !== false;
  io.stdout(`Verified (MD5${readback ? ' + read-back' : ''})${resetDone ? ', chip reset into its firmware' : ''}. ${(t.totalMs / 1000).toFixed(2)} s (connect ${(t.connectMs / 1000).toFixed(2)} s, write ${(t.writeMs / 1000).toFixed(2)} s with the ${r.loader === 'rom' ? 'ROM loader' : 'flasher stub'})\n`);
}

/** One progress line: redrawn in place on a terminal, one line per stage change otherwise. */
function progressPrinter(io: CliIO, quiet: boolean): { update(e: FlashProgress): void; end(): void } {
  let lastKey = '';
  let drawn = false;
  return {
    update(e) {
      if (quiet) return;
      const label = `${e.stage}${e.region ? ` ${e.region}` : ''}`;
      if (io.isTTY) {
        io.stdout(`\r${`[${e.percent.toFixed(0).padStart(3)}%] ${label}${e.message ? `: ${e.message}` : ''}`.padEnd(70)}`);
        drawn = true;
      } else if (label !== lastKey) {
        io.stdout(`[${e.percent.toFixed(0).padStart(3)}%] ${label}${e.message ? `: ${e.message}` : ''}\n`);
      }
      lastKey = label;
    },
    end() {
      if (drawn) io.stdout('\n');
      drawn = false;
    },
  };
}
