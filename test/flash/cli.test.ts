// `factory-station ports` and `factory-station flash`, run in-process (and once as a real process).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { memoryIO, runCommand } from '../../src-main/cli/io.ts';
import { run as runFlash } from '../../src-main/cli/commands/flash.ts';
import { run as runPorts } from '../../src-main/cli/commands/ports.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { FIXTURES, fixture, MockBinding, nvsImage, TABLE_BIN } from './helpers.ts';

afterEach(() => MockBinding.reset());

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const ARGS = ['--partitions', 'partition/partitions_hap.csv', '--factory-nvs', 'homekit/factory/01-readme-basic/fan_factory.bin'];

function flashCli(argv: string[], registry?: VirtualChipRegistry) {
  const io = memoryIO(FIXTURES);
  return runCommand(io, () => runFlash(argv, io, { virtualRegistry: registry })).then((code) => ({ code, out: io.out, err: io.err }));
}

describe('factory-station flash', () => {
  it('--json prints one object with chip, MAC, regions (offset, size, md5) and timings', async () => {
    const registry = new VirtualChipRegistry();
    const chip = registry.create('virtual:esp32c3', { chip: 'esp32c3', mac: '7c:df:a1:01:02:03', pacing: false });
    const r = await flashCli(['--port', 'virtual:esp32c3', ...ARGS, '--flasher-args', 'idf-build/esp32c3/flasher_args.json', '--json', '--verify', 'readback'], registry);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]);
    expect(json).toMatchObject({ ok: true, chip: 'esp32c3', mac: '7c:df:a1:01:02:03', flashSize: 4194304, baud: 921600 });
    expect(json.regions.map((x: { name: string; offset: string }) => [x.name, x.offset])).toEqual([
      ['bootloader', '0x0'],
      ['partition-table', '0x8000'],
      ['otadata', '0x16000'],
      ['app', '0x20000'],
      ['factory_nvs', '0x340000'],
    ]);
    const table = json.regions[1];
    expect(table).toMatchObject({ size: 3072, md5: md5(TABLE_BIN()) });
    const app = fixture('idf-build', 'esp32c3', 'fan.bin');
    expect(json.regions[3]).toMatchObject({ size: app.length, md5: md5(app) });
    expect(json.readback.nvs.namespaces).toEqual(['hap_setup']);
    expect(Object.keys(json.timings).sort()).toEqual(['connectMs', 'readbackMs', 'resetMs', 'totalMs', 'writeMs']);
    expect(Buffer.from(chip.flash.subarray(0x8000, 0x8c00)).equals(Buffer.from(TABLE_BIN()))).toBe(true);
  });

  it('--dump writes the virtual chip’s whole flash after the run; human output has a progress line and a summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flash-cli-'));
    const dump = join(dir, 'flash.bin');
    const r = await flashCli(['--port', 'virtual:esp32', ...ARGS, '--dump', dump, '--no-pacing', '--virtual-mac', '24:0a:c4:09:08:07']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\[\s*\d+%\] write factory_nvs/);
    expect(r.out).toMatch(/MAC 24:0a:c4:09:08:07, 4 MB flash/);
    expect(r.out).toMatch(/0x340000\s+factory_nvs\s+24576 bytes/);
    const flash = new Uint8Array(readFileSync(dump));
    expect(flash.length).toBe(4 * 1024 * 1024);
    expect(Buffer.from(flash.subarray(0x8000, 0x8c00)).equals(Buffer.from(TABLE_BIN()))).toBe(true);
    const nvs = nvsImage(0);
    expect(Buffer.from(flash.subarray(0x340000, 0x340000 + nvs.length)).equals(Buffer.from(nvs))).toBe(true);
    expect(flash.subarray(0x20000, 0x30000).every((b) => b === 0xff)).toBe(true); // no app without --flasher-args
  });

  it('a device failure is one line on stderr (and a JSON error object with --json), exit 1', async () => {
    const registry = new VirtualChipRegistry();
    registry.create('virtual:esp32', { chip: 'esp32', pacing: false });
    const r = await flashCli(['--port', 'virtual:esp32', ...ARGS, '--flasher-args', 'idf-build/esp32s3/flasher_args.json', '--json'], registry);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'wrong-chip' } });
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^flash: The device on virtual:esp32 is an ESP32, but the images are for esp32s3/);
  });

  it('refuses bad input before touching a device, with one clear line and nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flash-cli-'));
    const dump = join(dir, 'never.bin');
    const cases: [string[], RegExp, number][] = [
      [['--port', 'virtual:esp32', ...ARGS, '--chip', 'esp8266'], /--chip must be esp32, esp32s2, esp32s3, esp32c3 or esp32c6, got .esp8266./, 2],
      [['--port', 'virtual:esp32', '--partitions', 'nope.csv', '--factory-nvs', 'x.bin', '--dump', dump], /partition table nope.csv: no such file/, 1],
      [['--port', '/dev/ttyUSB0', ...ARGS, '--dump', dump], /--dump only works with a virtual: port/, 2],
      [['--port', 'virtual:esp32', ...ARGS, '--verify', 'sha'], /--verify must be md5 or readback/, 2],
      [['--port', 'virtual:esp9', ...ARGS, '--dump', dump], /unknown virtual chip 'virtual:esp9'/, 2],
      [['--port', 'virtual:esp32', '--partitions', 'partition/partitions_hap.csv', '--factory-nvs', 'idf-build/esp32/fan.bin', '--dump', dump], /NVS image is 47056 bytes/, 1],
      [[...ARGS], /--port is required/, 2],
    ];
    for (const [argv, message, exit] of cases) {
      const r = await flashCli(argv);
      expect(r.code, argv.join(' ')).toBe(exit);
      expect(r.err.split('\n')[0]).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(existsSync(dump)).toBe(false);
  });

  it('--before / --after no-reset (either spelling) and --loader rom: no line moves, the ROM writes', async () => {
    const registry = new VirtualChipRegistry();
    const chip = registry.create('virtual:esp32', { chip: 'esp32', pacing: false, startInDownloadMode: true });
    const r = await flashCli(['--port', 'virtual:esp32', ...ARGS, '--before', 'no_reset', '--after', 'no-reset', '--loader', 'rom', '--json'], registry);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json).toMatchObject({ ok: true, loader: 'rom' });
    expect(json.wire.bytesToChip).toBeGreaterThan(0);
    expect(json.wire.floorMs).toBeGreaterThan(0);
    expect(chip.resetCount).toBe(0);
    expect(chip.mode).toBe('download');
    for (const [argv, message] of [
      [['--before', 'hard-reset'], /--before must be default-reset or no-reset, got 'hard-reset'/],
      [['--after', 'soft-reset'], /--after must be hard-reset or no-reset, got 'soft-reset'/],
      [['--loader', 'fast'], /--loader must be auto, rom or stub, got 'fast'/],
    ] as const) {
      const bad = await flashCli(['--port', 'virtual:esp32', ...ARGS, ...argv], registry);
      expect(bad.code).toBe(2);
      expect(bad.err.split('\n')[0]).toMatch(message);
    }
  });

  it('answers --help', async () => {
    const r = await flashCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: factory-station flash --port PORT/);
  });

  it('runs as a real process (bin/factory-station) against a virtual chip', async () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'factory-station');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, 'flash', '--port', 'virtual:esp32s3', ...ARGS, '--json', '--no-pacing', '--virtual-mac', 'f4:12:fa:00:00:99'],
      { cwd: FIXTURES, timeout: 30_000 },
    );
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ ok: true, chip: 'esp32s3', mac: 'f4:12:fa:00:00:99' });
    expect(json.regions.find((x: { name: string }) => x.name === 'factory_nvs').md5).toBe(md5(new Uint8Array([...nvsImage(0), ...new Uint8Array(0x2000).fill(0xff)])));
  });
});

describe('factory-station ports', () => {
  function portsCli(argv: string[], signal?: AbortSignal) {
    const io = memoryIO(FIXTURES);
    return { io, done: runCommand(io, () => runPorts(argv, io, { binding: MockBinding, signal })) };
  }

  it('lists ESP-capable ports with what they are; --all adds the rest; --json', async () => {
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '10c4', productId: 'ea60' });
    MockBinding.createPort('/dev/ttyS0');
    const human = portsCli([]);
    expect(await human.done).toBe(0);
    expect(human.io.out).toMatch(/^\/dev\/ttyUSB0\s+10c4:ea60\s+Silicon Labs CP2102/);
    expect(human.io.out).not.toMatch(/ttyS0/);
    const all = portsCli(['--all']);
    await all.done;
    expect(all.io.out).toMatch(/\/dev\/ttyS0/);
    const json = portsCli(['--json', '--probe']);
    await json.done;
    expect(JSON.parse(json.io.out)).toEqual({
      ports: [expect.objectContaining({ path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', espCapable: true, busy: false })],
    });
  });

  it('--watch --json reports attach and detach as JSON lines until stopped', async () => {
    MockBinding.createPort('/dev/ttyUSB0', { vendorId: '1a86', productId: '7523' });
    const ctl = new AbortController();
    const w = portsCli(['--watch', '--json', '--interval', '50'], ctl.signal);
    await waitFor(() => w.io.out.includes('"list"'));
    MockBinding.createPort('/dev/ttyACM0', { vendorId: '303a', productId: '1001' });
    await waitFor(() => w.io.out.includes('"attach"'));
    MockBinding.reset();
    await waitFor(() => (w.io.out.match(/"detach"/g) ?? []).length === 2);
    ctl.abort();
    expect(await w.done).toBe(0);
    const events = w.io.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'list', ports: [{ path: '/dev/ttyUSB0' }] });
    expect(events[1]).toMatchObject({ event: 'attach', port: { path: '/dev/ttyACM0', bridge: { kind: 'usb-serial-jtag' } } });
    expect(events.slice(2).map((e) => `${e.event} ${e.port.path}`).sort()).toEqual(['detach /dev/ttyACM0', 'detach /dev/ttyUSB0']);
  });

  it('is wired into the dispatcher and answers --help', async () => {
    const io = memoryIO(FIXTURES);
    expect(await main(['ports', '--help'], io)).toBe(0);
    expect(io.out).toMatch(/^usage: factory-station ports/);
    const bad = memoryIO(FIXTURES);
    expect(await main(['ports', '--interval', 'soon'], bad)).toBe(2);
    expect(bad.err).toMatch(/--interval must be/);
  });
});

// The bound only limits a failure; on a loaded machine polling can fall well behind.
async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
