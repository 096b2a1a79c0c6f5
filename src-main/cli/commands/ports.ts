// `factory-station ports [--watch] [--json] [--all] [--probe] [--interval MS]`
// Lists serial ports that can reach an ESP chip (USB bridge recognised by VID:PID); with --watch
// keeps running and reports plug / unplug until interrupted.
import { parseArgs } from 'node:util';
import { CliError, type CliIO } from '../io.ts';
import { listPorts, PortWatcher, type ListingBinding, type PortDescription } from '../../flash/ports.ts';

const HELP = `usage: factory-station ports [--watch] [--json] [--all] [--probe] [--interval MS]

Lists serial ports whose USB bridge can put an ESP chip into download mode
(Espressif USB-Serial/JTAG, CP210x, CH340/CH343/CH9102, FTDI, PL2303).

  --all            also list ports without a recognised ESP bridge
  --probe          open each ESP port briefly to report ports held by another program (busy)
  --watch          keep running and report attached / detached ports (Ctrl-C to stop)
  --interval MS    poll interval for --watch (default 1000)
  --json           machine-readable output (with --watch: one JSON object per line)
  -h, --help       this help
`;

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
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        watch: { type: 'boolean' },
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        probe: { type: 'boolean' },
        interval: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new CliError(`ports: ${(err as Error).message}\n${HELP}`, 2);
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
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
