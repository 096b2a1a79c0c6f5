// `factory-station demo [DIR]`: the whole flow without hardware, narrated for a newcomer, in a
// scratch folder it names: a starter product (given serial numbers and a boot check) → an offline
// batch of numbered identities → the batch imported as the station's pool → one virtual board of
// every chip the station supports, provisioned in parallel (one with an injected flash fault, one
// whose firmware panics at start-up: both caught, then retried with the same identity) → their
// labels → the history → the manifest export. Every step is the real code the station and the CLI
// run; only the boards are virtual (their firmware is the virtual chip's pre-flashed model, which
// reads the factory NVS the station wrote and prints it).
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ensureDirSync, writeFileAtomic } from '../../fs/index.ts';
import { openRegistry, type Registry } from '../../registry/index.ts';
import { loadProfile } from '../../station/profile-file.ts';
import { Station, type ProvisionOutcome } from '../../station/station.ts';
import { CHIP_KINDS, VirtualChipRegistry, type FirmwareModel } from '../../virtual-chip/index.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { CliError, memoryIO, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';

export const DEF: CommandDef = {
  program: 'factory-station demo',
  summary: 'Run the whole station flow on virtual boards, explaining each step (no hardware needed).',
  synopsis: ['[DIR] [--fast]'],
  description: `Everything is written into DIR (default: a new folder under ${tmpdir()}), which is named at
the start and the end: the product, the batch, the database, the labels and the manifest.`,
  args: { min: 0, max: 1, names: 'DIR' },
  options: { fast: { type: 'boolean', help: 'virtual boards without line timing (default: at the speed of a 921 600 baud link)' } },
  examples: ['factory-station demo', 'factory-station demo ./try-it --fast'],
  exitCodes: COMMON_EXIT_CODES,
};

/** The firmware the demo boards come with (pre-flashed): it reads its factory NVS and prints it. */
const FIRMWARE: FirmwareModel = { kind: 'homekit', name: 'Demo Lamp', version: '1.0' };
/** What the demo adds to the starter profile (docs/profile.md: serial, bootCheck). */
const ADDED = {
  serial: { format: 'LAMP-{yy}{ww}-{counter}', digits: 5, nvs: { namespace: 'app', key: 'serial' } },
  bootCheck: { require: ['app_main: Demo Lamp 1.0'], setupId: true, serial: true },
};

type Step = (argv: string[], io: CliIO) => Promise<number>;

/** Runs another verb in this process; its output is kept unless it fails. */
async function verb(load: () => Promise<{ run: Step }>, argv: string[], cwd: string): Promise<string> {
  const io = memoryIO(cwd);
  const code = await (await load()).run(argv, io);
  if (code !== 0) throw new CliError(`demo: factory-station ${argv.join(' ')} failed (exit ${code}): ${io.err.trim()}`, 1);
  return io.out;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals, help, version } = parseCommand(DEF, argv);
  if (help) return (io.stdout(helpText(DEF)), 0);
  if (version) return (io.stdout(`${VERSION}\n`), 0);
  const dir = positionals[0] ? resolve(io.cwd, positionals[0]) : mkdtempSync(join(tmpdir(), 'hkfs-demo-'));
  ensureDirSync(dir);
  if (readdirSync(dir).length > 0) throw new CliError(`demo: ${dir} is not empty: name a new or empty folder`, 1);
  const say = (text: string) => io.stdout(`${text}\n`);
  const at = (p: string) => relative(io.cwd, p) || '.';
  say(`HomeKit Factory Station demo — everything goes into ${dir}\n`);

  say('1. A product. `factory-station init` writes a starter profile, partition table and custom data:');
  await verb(() => import('./init.ts'), ['product', '--name', 'Demo Lamp', '--category', 'lighting'], dir);
  const profilePath = join(dir, 'product/profile.json');
  const profile = { ...(JSON.parse(readFileSync(profilePath, 'utf8')) as Record<string, unknown>), ...ADDED };
  await writeFileAtomic(profilePath, `${JSON.stringify(profile, null, 2)}\n`);
  say(`   ${at(profilePath)} (category 5, lighting; any ESP32 chip), to which the demo adds serial numbers`);
  say(`   (${ADDED.serial.format}, written into the factory NVS as app/serial) and a boot check: after the flash the`);
  say('   firmware must print "app_main: Demo Lamp 1.0", the setup ID and the serial number it read.\n');

  say('2. Identities made offline. `factory-station batch` creates 10 (codes, IDs, salts, verifiers) with their');
  say('   serial numbers, a block of the product\'s counter in the station database (created now):');
  const dbPath = join(dir, 'station.db');
  await withDb(dbPath, async () => undefined);
  await verb(() => import('./batch.ts'), ['--count', '10', '--prefix', 'Lamp', '--cid', '5', '--size', '0x6000', '--outdir', 'batch', '--labels', 'none', '--db', 'station.db', '--serials', 'product/profile.json'], dir);
  const manifest = readdirSync(join(dir, 'batch')).find((f) => f.startsWith('homekit_manifest_'));
  if (!manifest) throw new CliError('demo: the batch wrote no manifest', 1);
  say(`   the manifest for the station: ${at(join(dir, 'batch', manifest))}\n`);

  say('3. The station takes them as its pool. `factory-station pool import` recomputes every verifier first:');
  const imported = await verb(() => import('./pool.ts'), ['import', '--profile', 'product/profile.json', '--db', 'station.db', join('batch', manifest)], dir);
  say(`   ${imported.trim().split('\n').at(-1)}\n`);

  const { outcomes, caught } = await provisionBench(dir, dbPath, values.fast === true, say);
  say('');
  say('5. The history (`factory-station history`) — setup codes are never shown, only on labels and in exports')
  say('   (`history --attempts --failed --boot-log` shows what the crashing firmware printed):');
  const history = await verb(() => import('./history.ts'), ['--db', 'station.db'], dir);
  say(history.trimEnd().split('\n').map((l) => `   ${l}`).join('\n'));
  say('');
  say('6. The production manifest (`factory-station export`), the record of every code: mode 0600.');
  await verb(() => import('./export.ts'), ['--db', 'station.db', 'manifest.csv'], dir);
  say(`   ${at(join(dir, 'manifest.csv'))}\n`);

  const left = await withDb(dbPath, (db) => db.poolRemaining('demo-lamp'));
  const done = outcomes.filter((o) => o.kind === 'done').length;
  say(`Summary: ${done} of ${outcomes.length} boards provisioned from the pool (${left} identities left); ${caught.join(' and ')} caught, each retried with the same identity.`);
  say(`Everything is in ${dir}. Next: \`npm run preview\` shows the operator screen, README.md explains the rest.`);
  return done === outcomes.length ? 0 : 1;
}

async function withDb<T>(path: string, fn: (db: Registry) => Promise<T>): Promise<T> {
  const db = openRegistry(path, { station: 'demo' });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function provisionBench(dir: string, dbPath: string, fast: boolean, say: (t: string) => void): Promise<{ outcomes: ProvisionOutcome[]; caught: string[] }> {
  say(`4. One board of every chip the station supports (${CHIP_KINDS.join(', ')}), provisioned in parallel with pool`);
  say('   identities. Board 2 gets a flash fault; board 4 runs firmware that panics at start-up:');
  const registry = new VirtualChipRegistry();
  const ports = CHIP_KINDS.map((k, i) => `virtual:${k}-${i + 1}`);
  CHIP_KINDS.forEach((kind, i) => registry.create(ports[i]!, { chip: kind, pacing: !fast, firmware: FIRMWARE }));
  registry.get(ports[1]!)!.injectFault({ kind: 'corrupt-write' });
  registry.get(ports[3]!)!.firmware = { kind: 'panic', name: 'Demo Lamp', version: '1.0' };
  const station = new Station({
    dbPath, profile: await loadProfile(join(dir, 'product/profile.json')), labelDir: join(dir, 'labels'), stationName: 'demo', operator: 'demo',
    virtualRegistry: registry, usePool: true, labelCompletes: 'done', slotOf: (port) => ports.indexOf(port) + 1,
  });
  try {
    const outcomes = await Promise.all(ports.map((p) => station.provisionNext(p)));
    outcomes.forEach((o, i) => say(`   slot ${i + 1} (${CHIP_KINDS[i]}): ${describe(o, dir)}`));
    const caught: string[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (o.kind !== 'failed') continue;
      const chip = registry.get(ports[i]!)!;
      caught.push(o.stage === 'boot-check' ? '1 crashing firmware' : `1 ${o.stage === 'verify' ? 'flash fault' : 'failure'}`);
      if (o.stage === 'boot-check') {
        chip.firmware = FIRMWARE;
        say(`   slot ${i + 1}: the engineer swaps in good firmware; the operator presses Retry — the unit keeps its identity:`);
      } else {
        chip.clearFaults();
        say(`   slot ${i + 1}: the operator presses Retry — the unit keeps the identity it was given:`);
      }
      outcomes[i] = await station.retry(ports[i]!);
      say(`   slot ${i + 1} (${CHIP_KINDS[i]}): ${describe(outcomes[i]!, dir)}`);
    }
    return { outcomes, caught };
  } finally {
    await station.close();
  }
}

function describe(o: ProvisionOutcome, dir: string): string {
  if (o.kind === 'done') return `done — setup ID ${o.result.unit.setupId}, serial ${o.result.unit.serial}, unit ${o.result.unit.id}, label ${relative(dir, o.result.labelPdfPath ?? '')}`;
  if (o.kind === 'failed') return `failed at ${o.stage}: ${o.message} Next: ${o.nextStep}`;
  return `asks before re-flashing unit ${o.unitId}`;
}
