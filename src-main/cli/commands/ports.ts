// `factory-station ports [--watch] [--json] [--all] [--probe] [--interval MS]`
// Lists serial ports that can reach an ESP chip (USB bridge recognised by VID:PID); with --watch
// keeps running and reports plug / unplug until interrupted.
import { CliError, type CliIO } from '../io.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { VERSION } from '../version.ts';
import { listPorts, PortWatcher, type ListingBinding, type PortDescription } from '../../flash/ports.ts';

export const DEF: CommandDef = {
  program: 'factory-station ports',
  summary: 'List the serial ports that can reach an ESP chip; with --watch, report plug and unplug.',
  synopsis: ['[--watch] [--json] [--all] [--probe] [--interval MS]'],
  description: `ESP-capable means a USB bridge that can put an ESP chip into download mode (Espressif
USB-Serial/JTAG, CP210x, CH340/CH343/CH9102, FTDI, PL2303).`,
  options: {
    all: { type: 'boolean', help: 'also list ports without a recognised ESP bridge' },
    probe: { type: 'boolean', help: 'open each ESP port briefly to report ports held by another program (busy)' },
    watch: { type: 'boolean', help: 'keep running and report attached / detached ports (Ctrl-C to stop)' },
    interval: { type: 'string', arg: 'MS', default: '1000', help: 'poll interval for --watch, in milliseconds' },
    json: { type: 'boolean', help: 'machine-readable output (with --watch: one JSON object per line)' },
  },
  examples: ['factory-station ports', 'factory-station ports --watch --json'],
  exitCodes: COMMON_EXIT_CODES,
};

export interface PortsDeps {
  binding?: ListingBinding;
  /** Ends --watch (the real CLI ends on SIGINT / SIGTERM). */
  signal?: AbortSignal;
}

function describe(p: PortDescription): string {
  const ids = p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : '-';
  const what = p.bridge?.description ?? p.manufacturer ?? 'unknown device';
  const busy = p.busy ? '  [busy: in use by another program]' : p.probeError ? `  [cannot open: ${p.probeError}]` : '';
  return `${p.path.padEnd(22)} ${ids.padEnd(10)} ${what}${busy}`;
}

export async function run(argv: string[], io: CliIO, deps: PortsDeps = {}): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as { watch?: boolean; json?: boolean; all?: boolean; probe?: boolean; interval?: string };
  const intervalMs = values.interval === undefined ? 1000 : Number(values.interval);
  if (!Number.isInteger(intervalMs) || intervalMs < 50) throw new CliError(`ports: --interval must be a whole number of milliseconds >= 50, got '${values.interval}'`, 2);
  const includeAll = Boolean(values.all);

  let ports: PortDescription[];
  try {
    ports = await listPorts({ binding: deps.binding, includeAll, probeBusy: Boolean(values.probe) });
  } catch (err) {
    throw new CliError(`ports: cannot list serial ports: ${(err as Error).message}`);
  }
  if (values.json) {
    io.stdout(`${JSON.stringify(values.watch ? { event: 'list', ports } : { ports })}\n`);
  } else if (ports.length === 0) {
    io.stdout(includeAll ? 'No serial ports found.\n' : 'No ESP-capable serial ports found (use --all to list every port).\n');
  } else {
    for (const p of ports) io.stdout(`${describe(p)}\n`);
  }
  if (!values.watch) return 0;

  const watcher = new PortWatcher({ binding: deps.binding, intervalMs, espOnly: !includeAll });
  const report = (event: 'attach' | 'detach') => (p: PortDescription) =>
    io.stdout(values.json ? `${JSON.stringify({ event, port: p })}\n` : `${event === 'attach' ? '+ attached' : '- detached'}  ${describe(p)}\n`);
  watcher.on('attach', report('attach'));
  watcher.on('detach', report('detach'));
  watcher.on('error', (err) => io.stderr(`ports: listing failed (${err.message}); still watching\n`));
  await watcher.start();
  if (!values.json) io.stdout('Watching for changes (Ctrl-C to stop)...\n');

  const signal = deps.signal ?? processStopSignal();
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  watcher.stop();
  return 0;
}

function processStopSignal(): AbortSignal {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ctl.signal;
}
