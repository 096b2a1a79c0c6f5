// `factory-station virtual-chip …`: serves a simulated ESP chip on a pseudo-terminal (already in
// download mode) so any flasher can talk to it; prints the pty path as the first stdout line and,
// on SIGTERM/SIGINT, writes the whole flash to --dump (atomically) and exits 0.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { helpText, parseCommand, type CommandDef } from '../command.ts';
import { VERSION } from '../version.ts';
import { CHIP_KINDS, formatMac, type VirtualChipKind } from '../../virtual-chip/index.ts';
import { servePty, type PtyServerOptions } from '../../virtual-chip/pty-server.ts';

export const DEF: CommandDef = {
  program: 'factory-station virtual-chip',
  summary: 'Serve a virtual ESP chip on a pseudo-terminal (needs socat), for any flasher to talk to.',
  synopsis: ['[--chip CHIP] [--flash-size SIZE] [--mac MAC] [--revision N] [--load FILE] [--dump FILE] [--no-pacing]'],
  description: `The first stdout line is the pty path to open (factory-station flash --port <path> …, or
esptool --port <path> --before no-reset). The chip starts in download mode. It runs until SIGTERM
or Ctrl-C; the flash is then written to --dump if given.`,
  options: {
    chip: { type: 'string', arg: 'CHIP', default: 'esp32', help: `chip model (${CHIP_KINDS.join(', ')})` },
    'flash-size': { type: 'string', arg: 'SIZE', default: '4MB', help: '1MB, 2MB, 4MB, 8MB, 16MB … or a byte count' },
    mac: { type: 'string', arg: 'MAC', default: 'Espressif OUI + random', help: 'factory MAC, XX:XX:XX:XX:XX:XX' },
    revision: { type: 'string', arg: 'N', default: 'per chip', help: 'chip revision as major*100+minor' },
    load: { type: 'string', arg: 'FILE', help: 'initial flash contents from offset 0 (e.g. an earlier dump)' },
    dump: { type: 'string', arg: 'FILE', help: 'on exit, write the whole flash to FILE' },
    'no-pacing': { type: 'boolean', help: 'deliver bytes instantly instead of at the baud rate' },
  },
  examples: ['factory-station virtual-chip --chip esp32s3 --dump flash.bin'],
  exitCodes: { 0: 'stopped (SIGTERM or Ctrl-C); the flash was dumped if asked', 1: 'could not start (the message says why, e.g. socat missing)', 2: 'bad command line (the message names the option)' },
};

/** Kept for callers that print the help. */
export const USAGE = helpText(DEF);

const USAGE_EXIT = 2;

export function parseFlashSize(text: string): number {
  const m = /^(\d+)\s*(k|kb|kib|m|mb|mib)?$/i.exec(text.trim());
  if (!m) throw new CliError(`virtual-chip: invalid --flash-size '${text}' (e.g. 4MB)`, USAGE_EXIT);
  const unit = (m[2] ?? '').toLowerCase();
  const size = Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1);
  if (size < 0x40000 || size > 0x8000000 || (size & (size - 1)) !== 0) {
    throw new CliError(`virtual-chip: --flash-size must be a power of two from 256KB to 128MB, got '${text}'`, USAGE_EXIT);
  }
  return size;
}

interface ParsedArgs {
  server: PtyServerOptions;
  dump?: string;
  load?: string;
}

export function parseVirtualChipArgs(argv: string[], io: CliIO): ParsedArgs | 'help' | 'version' {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return 'help';
  if (parsed.version) return 'version';
  const values = parsed.values as Record<string, string | undefined> & { 'no-pacing'?: boolean };
  const chip = (values.chip ?? 'esp32') as VirtualChipKind;
  if (!CHIP_KINDS.includes(chip)) {
    throw new CliError(`virtual-chip: unknown --chip '${values.chip}' (expected ${CHIP_KINDS.join(', ')})`, USAGE_EXIT);
  }
  const server: PtyServerOptions = { chip, pacing: !values['no-pacing'] };
  if (values['flash-size'] !== undefined) server.flashSize = parseFlashSize(values['flash-size']);
  if (values.mac !== undefined) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(values.mac)) {
      throw new CliError(`virtual-chip: invalid --mac '${values.mac}' (expected XX:XX:XX:XX:XX:XX)`, USAGE_EXIT);
    }
    server.mac = values.mac;
  }
  if (values.revision !== undefined) {
    const rev = Number(values.revision);
    if (!/^\d+$/.test(values.revision) || rev > 399) {
      throw new CliError(`virtual-chip: invalid --revision '${values.revision}' (major*100+minor, e.g. 300)`, USAGE_EXIT);
    }
    server.revision = rev;
  }
  return {
    server,
    dump: values.dump === undefined ? undefined : resolve(io.cwd, values.dump),
    load: values.load === undefined ? undefined : resolve(io.cwd, values.load),
  };
}

/** Resolves on the first SIGTERM/SIGINT. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolveSignal(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Serves until `stop` resolves, then dumps and cleans up. Separate from run() so tests can stop
 * the server without signals.
 */
export async function serveVirtualChip(args: ParsedArgs, io: CliIO, stop: Promise<unknown>): Promise<number> {
  let initial: Uint8Array | undefined;
  if (args.load) {
    initial = new Uint8Array(await readFile(args.load));
    const size = args.server.flashSize ?? 4 * 1024 * 1024;
    if (initial.length > size) {
      throw new CliError(`virtual-chip: ${args.load}: ${initial.length} bytes do not fit in ${size}-byte flash`);
    }
  }
  let server;
  try {
    server = await servePty(args.server);
  } catch (err) {
    throw new CliError(`virtual-chip: ${(err as Error).message}`);
  }
  if (initial) server.chip.flash.set(initial);
  io.stdout(`${server.path}\n`);
  const chip = server.chip;
  io.stderr(
    `virtual ${chip.profile.name} (revision ${chip.options.revision}), MAC ${formatMac(chip.mac)}, ` +
      `${chip.options.flashSize / 1048576} MB flash, in download mode on ${server.path}\n`,
  );
  try {
    await stop;
  } finally {
    await server.close();
    chip.unplug();
  }
  if (args.dump) {
    await writeFileAtomic(args.dump, chip.flash);
    io.stderr(`flash (${chip.flash.length} bytes) written to ${args.dump}\n`);
  }
  return 0;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseVirtualChipArgs(argv, io);
  if (parsed === 'version') return (io.stdout(`${VERSION}\n`), 0);
  if (parsed === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  // Listen before the pty exists so a quick SIGTERM after the path is printed is not lost.
  return serveVirtualChip(parsed, io, nextStopSignal());
}
