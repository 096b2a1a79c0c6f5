// `npm run bench flash`: how long the station takes to flash a unit on a paced virtual chip, against
// the least time the bytes it sent need on the wire, and against Python esptool on the same chip.
//
// Per chip (ESP32, ESP32-S3, ESP32-C3, each behind a CP210x-style UART bridge at 921600 baud, blank
// flash as from the factory), two jobs: (a) partition table + factory NVS, (b) the same plus a 1 MB
// app. For each: the station cycle (connect → verified → reset) in process over the virtual serial
// binding, its wire floor (Σ bytes × 10 / baud of what crossed the line, both directions) and
// which loader wrote. Over a pty (socat, no reset lines), the `factory-station flash` process and —
// when ESPTOOL_PY names an esptool checkout (or executable) — `esptool write-flash` with the same
// files, both timed from spawn to exit; ESPTOOL_PYTHON picks the interpreter (default python3).
// Also (a) on a unit flashed before (same table, another identity), where the ROM path pays off.
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { CHIP_KINDS, VirtualChipRegistry, virtualPortOpener, type VirtualChipKind } from '../src-main/virtual-chip/index.ts';
import { servePty } from '../src-main/virtual-chip/pty-server.ts';
import { flashDevice, type FlashResult } from '../src-main/flash/flasher.ts';
import type { FlashProgress } from '../src-main/flash/session.ts';
import { buildWritePlan, type FlashPlan } from '../src-main/flash/plan.ts';

const CHIPS: readonly VirtualChipKind[] = CHIP_KINDS;
const BAUD = 921_600;
const APP_OFFSET = 0x20000;
const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'flash');
const BIN = join(import.meta.dirname, '..', 'bin', 'factory-station');

/** A 1 MB stand-in for an app image that compresses like one (≈ 0.6 with zlib -9). Deterministic. */
function appImage(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x2545f491;
  const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  for (let at = 0; at < size; at += 32) {
    const r = rnd();
    const back = at - 32 * (1 + ((r >>> 8) % 120));
    if (back >= 0 && r % 100 < 36) out.copyWithin(at, back, back + 32);
    else for (let i = at; i < Math.min(size, at + 32); i++) out[i] = rnd() % 100 < 30 ? 0 : rnd() & 0xff;
  }
  out[0] = 0; // not an image header: no chip check
  return out;
}

interface Job {
  name: string;
  plan: FlashPlan;
  /** offset → file, for esptool and the CLI. */
  files: [number, string][];
  flasherArgs?: string;
}

async function makeJobs(dir: string): Promise<Job[]> {
  const table = readFileSync(join(FIXTURES, 'partition', 'partitions_hap.bin'));
  const nvs = readFileSync(join(FIXTURES, 'homekit', 'factory', '01-readme-basic', 'fan_factory.bin'));
  const planA = await buildWritePlan({ partitionTable: table, factoryNvs: nvs });
  const nvsRegion = planA.regions.find((r) => r.name === 'factory_nvs')!;
  writeFileSync(join(dir, 'pt.bin'), table);
  writeFileSync(join(dir, 'nvs.bin'), nvsRegion.data); // padded to the partition, as the station writes it
  writeFileSync(join(dir, 'nvs-image.bin'), nvs);
  writeFileSync(join(dir, 'app.bin'), appImage(1 << 20));
  const flasherArgs = join(dir, 'flasher_args.json');
  writeFileSync(flasherArgs, JSON.stringify({ flash_files: { [`0x${APP_OFFSET.toString(16)}`]: 'app.bin' }, app: { offset: `0x${APP_OFFSET.toString(16)}`, file: 'app.bin' } }));
  const planB = await buildWritePlan({ partitionTable: table, factoryNvs: nvs, flasherArgs: { json: JSON.parse(readFileSync(flasherArgs, 'utf8')), baseDir: dir } });
  const filesA: [number, string][] = [[0x8000, join(dir, 'pt.bin')], [nvsRegion.offset, join(dir, 'nvs.bin')]];
  return [
    { name: '(a) table + factory NVS', plan: planA, files: filesA },
    { name: '(b) + 1 MB app', plan: planB, files: [...filesA, [APP_OFFSET, join(dir, 'app.bin')]], flasherArgs },
  ];
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

/** Where a station cycle's time went, from its progress events. */
function phases(events: { at: number; e: FlashProgress }[], total: number): string {
  const first = (test: (e: FlashProgress) => boolean) => events.find((x) => test(x.e))?.at;
  const marks: [string, number | undefined][] = [
    ['reset + sync', 0],
    ['identify + baud', first((e) => e.stage === 'identify')],
    ['MD5 check', first((e) => e.stage === 'write' && !e.region)],
    ['stub upload', first((e) => e.stage === 'stub')],
    ['write + verify', first((e) => e.stage === 'write' && e.region !== undefined)],
    ['reset', first((e) => e.stage === 'reset')],
  ];
  const present = marks.filter((m): m is [string, number] => m[1] !== undefined);
  return present.map(([name, at], i) => `${name} ${ms((present[i + 1]?.[1] ?? total) - at)}`).join(', ');
}

/** The station cycle in process, over the virtual serial binding (with reset lines). */
async function stationCycle(chip: VirtualChipKind, plan: FlashPlan, before?: FlashPlan): Promise<{ ms: number; result: FlashResult; phases: string }> {
  const registry = new VirtualChipRegistry();
  const vchip = registry.create('virtual:bench', { chip, circuit: 'uart-bridge', mac: '24:0a:c4:00:00:01' });
  if (before) for (const r of before.regions) vchip.flash.set(r.data, r.offset);
  await new Promise((r) => setTimeout(r, 100)); // let the power-on banner pass
  const events: { at: number; e: FlashProgress }[] = [];
  const t = performance.now();
  const result = await flashDevice('virtual:bench', plan, { openPort: virtualPortOpener(registry), baud: BAUD, onProgress: (e) => events.push({ at: performance.now() - t, e }) });
  const total = performance.now() - t;
  return { ms: total, result, phases: phases(events, total) };
}

/** Runs `command` against a fresh virtual chip served on a pty; wall time from spawn to exit. */
async function overPty(chip: VirtualChipKind, command: (pty: string) => [string, string[], NodeJS.ProcessEnv?]): Promise<number> {
  const server = await servePty({ chip, circuit: 'uart-bridge' });
  try {
    const [file, args, env] = command(server.path);
    const t = performance.now();
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const wall = performance.now() - t;
    if (code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${code}): ${err.trim().split('\n').slice(-3).join(' / ')}`);
    return wall;
  } finally {
    await server.close();
  }
}

function esptoolCommand(): { run: (pty: string, chip: string, files: [number, string][]) => [string, string[], NodeJS.ProcessEnv?]; version: string } | null {
  const path = process.env.ESPTOOL_PY;
  if (!path) return null;
  const python = process.env.ESPTOOL_PYTHON ?? 'python3';
  const isDir = statSync(path).isDirectory();
  const base = (): [string, string[], NodeJS.ProcessEnv] => (isDir ? [python, ['-m', 'esptool'], { PYTHONPATH: path }] : [path, [], {}]);
  const [file, pre, env] = base();
  const v = spawnSync(file, [...pre, 'version'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`ESPTOOL_PY=${path}: cannot run esptool (${(v.stderr || v.error?.message || '').trim()})`);
  return {
    version: v.stdout.trim().split('\n').pop()!,
    run: (pty, chip, files) => {
      const [f, p, e] = base();
      const writes = files.flatMap(([offset, name]) => [`0x${offset.toString(16)}`, name]);
      return [f, [...p, '--chip', chip, '--port', pty, '--baud', String(BAUD), '--before', 'no-reset', '--after', 'no-reset', 'write-flash', ...writes], e];
    },
  };
}

function cliCommand(dir: string, job: Job): (pty: string) => [string, string[]] {
  const extra = job.flasherArgs ? ['--flasher-args', job.flasherArgs] : [];
  return (pty) => [process.execPath, [BIN, 'flash', '--port', pty, '--partitions', join(dir, 'pt.bin'), '--factory-nvs', join(dir, 'nvs-image.bin'), '--baud', String(BAUD), '--json', ...extra]];
}

/** Bytes the stub upload puts on the wire, for the breakdown line. */
function describe(r: FlashResult): string {
  const sent = r.regions.reduce((n, x) => n + x.compressedSize, 0);
  return `loader ${r.loader}, ${r.wire.bytesToChip} B to the chip (${sent} B of compressed data), ${r.wire.bytesFromChip} B back`;
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-flash-'));
  try {
    const jobs = await makeJobs(dir);
    const esptool = esptoolCommand();
    console.log(`virtual chips behind a UART bridge at ${BAUD} baud, paced (wire, USB latency, erase/program/MD5 times); blank flash`);
    const app = readFileSync(join(dir, 'app.bin'));
    console.log(`(b)'s app: ${app.length} bytes, ${deflateSync(app, { level: 9 }).length} after zlib -9`);
    console.log(esptool ? `reference: ${esptool.version} over a pty (--before/--after no-reset), timed in this run` : 'reference: set ESPTOOL_PY to an esptool checkout to time Python esptool in the same run');
    // Untimed warm-up: module loading and JIT must not land on the first chip's numbers.
    await stationCycle('esp32', jobs[0].plan);
    for (const chip of CHIPS) {
      console.log(`\n${chip}`);
      for (const job of jobs) {
        const { ms: cycle, result, phases: where } = await stationCycle(chip, job.plan);
        console.log(`  ${job.name}: station cycle ${ms(cycle)}, wire floor ${ms(result.wire.floorMs)} → ${(cycle / result.wire.floorMs).toFixed(2)}× floor; ${describe(result)}`);
        console.log(`    time went to: ${where}`);
        const cli = await overPty(chip, cliCommand(dir, job));
        let line = `    over a pty, process wall time: factory-station flash ${ms(cli)}`;
        if (esptool) {
          const ref = await overPty(chip, (pty) => esptool.run(pty, chip, job.files));
          line += `, esptool ${ms(ref)} → ${(cli / ref).toFixed(2)}× esptool (station cycle / esptool: ${(cycle / ref).toFixed(2)}×)`;
        }
        console.log(line);
      }
      const flashed = await buildWritePlan({ partitionTable: readFileSync(join(dir, 'pt.bin')), factoryNvs: readFileSync(join(FIXTURES, 'homekit', 'factory', '02-adk-doc-example', 'outlet.bin')) });
      const again = await stationCycle(chip, jobs[0].plan, flashed);
      console.log(`  (a) on a unit flashed before (same table, other identity): station cycle ${ms(again.ms)}, wire floor ${ms(again.result.wire.floorMs)}; ${describe(again.result)}`);
      console.log(`    time went to: ${again.phases}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
