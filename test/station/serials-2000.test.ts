// Acceptance (issue 17, serial numbers): 2 000 devices of one product numbered from one counter,
// by the station and by two offline batches interleaved — batch A (900), 100 station units, batch B
// (900), 100 station units taking batch A's identities from the pool (they keep A's numbers), 100
// more fresh station units — plus a second product with a counter of its own. Every number is
// unique and the counter has no gap; each is where it must be, read back by independent means:
// the factory NVS (the virtual chip's flash for station units, the .bin for batch accessories, both
// parsed by the NVS reader), the label (pdftotext on the PDFs), the database and the export.
//
// How it stays fast and honest: the station units go through the real Station pipeline on virtual
// chips (no pacing, four ports at a time, no firmware images: partition table + factory NVS); the
// batches are the real `factory-station batch` command in process (worker threads, SRP table);
// only the factory_nvs region of each chip is kept for the checks (4 MB flashes are dropped).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findString, readNvsImage } from '../../shared/nvs/reader.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { HOMEKIT_PARTITION_CSV, loadProfile } from '../../src-main/station/profile-file.ts';
import { Station } from '../../src-main/station/station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { FACTORY_NVS } from './helpers.ts';

const run = promisify(execFile);

/** pdftotext over many labels, four at a time (hundreds of processes at once swamp a loaded machine). */
async function pdfTexts(paths: string[]): Promise<string[]> {
  const out: string[] = new Array<string>(paths.length);
  let next = 0;
  const lane = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = (await run('pdftotext', [paths[i]!, '-'])).stdout;
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);
  return out;
}
const PORTS = ['virtual:s1', 'virtual:s2', 'virtual:s3', 'virtual:s4'];
const BATCH = 900;
const STATION = 100;
const SN = { namespace: 'device', key: 'sn' };

let dir: string;
let db: Registry;
let macCounter = 0;
const stationUnits: { unitId: number; nvs: Uint8Array; labelPdf: string; fromPool: boolean; product: string }[] = [];
const batches: { out: string; manifest: string }[] = [];

const nextMac = () => {
  macCounter++;
  return `58:cf:79:${((macCounter >> 16) & 255).toString(16).padStart(2, '0')}:${((macCounter >> 8) & 255).toString(16).padStart(2, '0')}:${(macCounter & 255).toString(16).padStart(2, '0')}`;
};

async function cli(args: string[]): Promise<string> {
  const io = memoryIO(dir);
  const code = await main(args, io);
  if (code !== 0) throw new Error(`factory-station ${args.join(' ')}: exit ${code}: ${io.err}`);
  return io.out;
}

function writeProfile(file: string, id: string, serial: Record<string, unknown>): string {
  writeFileSync(join(dir, file), JSON.stringify({
    schema: 1, id, productName: id, category: 3, nvs: { size: '0x6000' }, firmware: { partitionTable: 'partitions.csv' },
    serial: { ...serial, nvs: SN }, label: { size: '40x30', showSerial: true, showUnit: false }, printer: { mode: 'pdf' },
  }));
  return join(dir, file);
}

async function batch(name: string): Promise<void> {
  await cli(['batch', '--prefix', name, '--count', String(BATCH), '--cid', '3', '--size', '0x6000', '--db', 'station.db', '--serials', 'fan.json', '--outdir', name, '--labels', 'sheet', '--label-size', '40x30', '--jobs', '2']);
  const manifest = readdirSync(join(dir, name)).find((f) => f.startsWith('homekit_manifest_'))!;
  batches.push({ out: join(dir, name), manifest: join(dir, name, manifest) });
}

/** `n` boards through the station, four ports at a time; keeps each unit's factory NVS and label. */
async function provision(station: Station, registry: VirtualChipRegistry, n: number, fromPool: boolean): Promise<void> {
  for (let done = 0; done < n; done += PORTS.length) {
    const ports = PORTS.slice(0, Math.min(PORTS.length, n - done));
    const chips = ports.map((p) => {
      registry.remove(p);
      return registry.create(p, { chip: 'esp32c3', mac: nextMac(), pacing: false });
    });
    const outcomes = await Promise.all(ports.map((p) => station.provisionNext(p)));
    outcomes.forEach((o, i) => {
      if (o.kind !== 'done') throw new Error(`${ports[i]}: ${JSON.stringify(o)}`);
      const nvs = chips[i]!.flash.slice(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
      stationUnits.push({ unitId: o.result.unit.id, nvs, labelPdf: o.result.labelPdfPath!, fromPool, product: o.result.unit.product });
    });
  }
}

afterAll(async () => {
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true }); // /dev/shm is memory
});

beforeAll(async () => {
  dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hkfs-serials-'));
  writeFileSync(join(dir, 'partitions.csv'), HOMEKIT_PARTITION_CSV);
  const fan = await loadProfile(writeProfile('fan.json', 'serial-fan', { format: 'FAN-{counter}', digits: 6 }));
  const lamp = await loadProfile(writeProfile('lamp.json', 'serial-lamp', { format: 'LMP{yy}-{counter}', digits: 4, start: 100 }));
  db = openRegistry(join(dir, 'station.db'));
  const registry = new VirtualChipRegistry();
  mkdirSync(join(dir, 'labels'));
  const station = (profile: typeof fan, usePool = false) =>
    new Station({ db, profile, labelDir: join(dir, 'labels'), stationName: 'serials', operator: 'test', virtualRegistry: registry, usePool, labelCompletes: 'done' });

  await batch('A');
  await provision(station(fan), registry, STATION, false);
  await batch('B');
  await cli(['pool', 'import', '--profile', 'fan.json', '--db', 'station.db', batches[0]!.manifest]);
  await provision(station(fan, true), registry, STATION, true);
  await provision(station(fan), registry, STATION, false);
  await provision(station(lamp), registry, 8, false);
}, 600_000);

/** The batch accessories' numbers, read from their own files: NVS .bin, .txt, values master, manifest. */
function batchSerials(b: { out: string; manifest: string }): { name: string; setupId: string; serial: string }[] {
  const manifest = JSON.parse(readFileSync(b.manifest, 'utf8')) as { serialProduct: string; units: { name: string; setupId: string; serial: string }[] };
  expect(manifest.serialProduct).toBe('serial-fan');
  const valuesFile = readdirSync(b.out).find((f) => f.startsWith('homekit_values_'))!;
  const [header, ...rows] = readFileSync(join(b.out, valuesFile), 'utf8').trimEnd().split('\r\n').map((l) => l.split(','));
  const column = header!.indexOf('serial_number');
  expect(column).toBe(header!.length - 1);
  return manifest.units.map((u, i) => {
    const image = readNvsImage(new Uint8Array(readFileSync(join(b.out, 'bin', `${u.name}.bin`))));
    expect(image.problems).toEqual([]);
    expect(findString(image, SN.namespace, SN.key)).toBe(u.serial);
    expect(readFileSync(join(b.out, 'homekit_setup_info', `${u.name}.txt`), 'utf8')).toContain(`\nSerial Number: ${u.serial}\n`);
    expect(rows[i]![column]).toBe(u.serial);
    return { name: u.name, setupId: u.setupId, serial: u.serial };
  });
}

describe('2 000 serial numbers of one product, station and batch', () => {
  it('the counter handed out 1 … 2000 once each, in the order the numbers were issued; the second product counts on its own', () => {
    const raw = new Database(join(dir, 'station.db'), { readonly: true });
    try {
      const rows = raw.prepare("SELECT serial, counter, source FROM used_serials WHERE product = 'serial-fan' ORDER BY counter").all() as { serial: string; counter: number; source: string }[];
      expect(rows.map((r) => r.counter)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
      expect(rows.map((r) => r.serial)).toEqual(rows.map((r) => `FAN-${String(r.counter).padStart(6, '0')}`));
      // A 1–900, station 901–1000, B 1001–1900, station 1901–2000
      const sourceOf = (n: number) => rows[n - 1]!.source;
      expect([sourceOf(1), sourceOf(900), sourceOf(901), sourceOf(1000), sourceOf(1001), sourceOf(1900), sourceOf(1901), sourceOf(2000)].map((s) => s.split(':')[0])).toEqual(['batch', 'batch', 'unit', 'unit', 'batch', 'batch', 'unit', 'unit']);
      const lamp = raw.prepare("SELECT serial, counter FROM used_serials WHERE product = 'serial-lamp' ORDER BY counter").all() as { serial: string; counter: number }[];
      expect(lamp.map((r) => r.counter)).toEqual(Array.from({ length: 8 }, (_, i) => 100 + i));
      expect(lamp[0]!.serial).toMatch(/^LMP\d\d-0100$/);
    } finally {
      raw.close();
    }
  });

  it('batch accessories carry their numbers in NVS, .txt, values master and manifest; the label sheets print them', async () => {
    const all = batches.flatMap((b) => batchSerials(b));
    expect(all).toHaveLength(2 * BATCH);
    expect(new Set(all.map((u) => u.serial)).size).toBe(2 * BATCH);
    for (const b of batches) {
      const sheet = readdirSync(b.out).find((f) => f.startsWith('homekit_labels_'))!;
      const { stdout } = await run('pdftotext', [join(b.out, sheet), '-'], { maxBuffer: 64 * 1024 * 1024 });
      const printed = [...stdout.matchAll(/SN (FAN-\d{6})/g)].map((m) => m[1]);
      const expected = (JSON.parse(readFileSync(b.manifest, 'utf8')) as { units: { serial: string }[] }).units.map((u) => u.serial);
      expect(printed.sort()).toEqual(expected.sort());
    }
  });

  it('station units: the number in the database is on the flash (read back) and on the label (pdftotext); pool units keep their batch number', async () => {
    const fanUnits = stationUnits.filter((u) => u.product === 'serial-fan');
    expect(fanUnits).toHaveLength(3 * STATION);
    const batchA = new Map(batchSerials(batches[0]!).map((u) => [u.setupId, u.serial]));
    const texts = await pdfTexts(stationUnits.map((u) => u.labelPdf));
    for (const [i, u] of stationUnits.entries()) {
      const unit = (await db.getUnit(u.unitId))!;
      expect(unit.serial).not.toBeNull();
      const onFlash = readNvsImage(u.nvs);
      expect(onFlash.problems).toEqual([]);
      expect(findString(onFlash, SN.namespace, SN.key)).toBe(unit.serial);
      expect(texts[i]).toContain(`SN ${unit.serial}`);
      if (u.fromPool) expect(unit.serial).toBe(batchA.get(unit.setupId));
    }
    const fanSerials = await Promise.all(fanUnits.map(async (u) => (await db.getUnit(u.unitId))!.serial));
    expect(new Set(fanSerials).size).toBe(3 * STATION);
  }, 180_000);

  it('the export lists every unit with its number (last column)', async () => {
    await cli(['export', '--db', 'station.db', 'manifest.csv']);
    const [header, ...lines] = readFileSync(join(dir, 'manifest.csv'), 'utf8').trimEnd().split('\r\n').map((l) => l.split(','));
    expect(header!.at(-1)).toBe('serial');
    expect(lines).toHaveLength(stationUnits.length);
    const bySetupId = new Map(lines.map((l) => [l[3], l.at(-1)]));
    for (const u of stationUnits) {
      const unit = (await db.getUnit(u.unitId))!;
      expect(bySetupId.get(unit.setupId)).toBe(unit.serial);
    }
  });
});
