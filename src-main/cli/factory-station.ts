// `factory-station <command> …`: the headless twin of the station app.
// Each command lives in its own module under ./commands and is loaded on demand.
import { processIO, runCommand, type CliIO } from './io.ts';
import { VERSION } from './version.ts';

export type CommandModule = { run(argv: string[], io: CliIO): Promise<number> };

export const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  nvs: { summary: 'NVS images: generate | generate-key | encrypt | decrypt | inspect', load: () => import('./commands/nvs.ts') },
  partitions: { summary: 'partition table CSV <-> binary (like gen_esp32part.py)', load: () => import('./commands/partitions.ts') },
  payload: { summary: 'HomeKit setup payload (X-HM://...) and its QR code', load: () => import('./commands/payload.ts') },
  ports: { summary: 'list serial ports that can talk to an ESP chip', load: () => import('./commands/ports.ts') },
  flash: { summary: 'flash a partition table + factory NVS (+ firmware) onto a chip', load: () => import('./commands/flash.ts') },
  'virtual-chip': { summary: 'serve a virtual ESP chip on a pseudo-terminal', load: () => import('./commands/virtual-chip.ts') },
  provision: { summary: 'run the whole station pipeline for one unit', load: () => import('./commands/provision.ts') },
  label: { summary: "a unit's label as ZPL: to a file or a ZPL label printer (reprint)", load: () => import('./commands/label.ts') },
  history: { summary: 'show provisioned units from the production database', load: () => import('./commands/history.ts') },
  export: { summary: 'export the production manifest as CSV', load: () => import('./commands/export.ts') },
  pool: { summary: 'import a batch manifest as the identity pool, or show what is left', load: () => import('./commands/pool.ts') },
  db: { summary: "the production registry: migrate its schema, or copy a station's registry into a line's PostgreSQL", load: () => import('./commands/db.ts') },
  batch: { summary: 'generate many accessories offline (like hk_mfg_gen.py)', load: () => import('./commands/batch.ts') },
  demo: { summary: 'the whole flow on virtual boards, narrated (no hardware needed)', load: () => import('./commands/demo.ts') },
  init: { summary: 'write a starter product (profile, partition table, custom data) ready for provision', load: () => import('./commands/init.ts') },
};

/**
 * The command line is the engineer's tool: it never asks for the engineer PIN (a profile's lock
 * guards the station app's screens). Said in every --help that touches identities.
 */
export const ENGINEER_NOTE =
  'This is the engineer\'s tool: it does not ask for the engineer PIN of a locked profile (the PIN\n' +
  'guards the station app). Whoever can run it and write the database can provision, import identity\n' +
  'pools and edit profiles: keep it off operator accounts.\n';

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: factory-station <command> [options]',
    '       factory-station --version',
    '',
    'commands:',
    ...lines,
    '',
    "Run 'factory-station <command> --help' for a command's options, examples and exit codes.",
    '',
    'Also: factory-nvs-gen SETUP_CODE SETUP_ID NAME [options] — a drop-in for esp-homekit-sdk\'s',
    "factory_nvs_gen.py (one accessory's factory NVS image); 'factory-nvs-gen --help' for its options.",
    '',
    ENGINEER_NOTE,
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    (command ? io.stdout : io.stderr)(usage());
    return command ? 0 : 2;
  }
  if (command === '--version') return (io.stdout(`${VERSION}\n`), 0);
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!entry) {
    const what = command.startsWith('-') ? `unknown option ${command}` : `unknown command '${command}'`;
    io.stderr(`factory-station: ${what} (see factory-station --help)\n`);
    return 2;
  }
  let mod: CommandModule;
  try {
    mod = await entry.load();
  } catch (err) {
    // A command module that is missing is a build problem, not an operator one; still no stack trace.
    io.stderr(`factory-station: command '${command}' is not available: ${(err as Error).message}\n`);
    return 70;
  }
  return runCommand(io, () => mod.run(rest, io));
}
