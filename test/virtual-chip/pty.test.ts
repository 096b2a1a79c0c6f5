// The `virtual-chip` command end to end: real bin, real pty (socat), real serialport binding, and
// the station's own `flash` command driving it as an operator would (a pty has no DTR/RTS, so the
// chip is found already in download mode and not reset afterwards).
//
// Nothing here waits a fixed time: the chip and the flasher are separate processes behind socat,
// and on a loaded machine a healthy answer can take far longer than it does on an idle one. Waits
// are for events (a line printed, a byte count reached, a process exiting) with generous bounds.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';
import { SerialPort } from 'serialport';
import { memoryIO } from '../../src-main/cli/io.ts';
import { run } from '../../src-main/cli/commands/virtual-chip.ts';
import { md5Hex } from './helpers/session.ts';
import { hex } from './helpers/raw.ts';
import { until } from './helpers/wait.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'flash');
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('--help and bad options (in-process)', async () => {
  const io = memoryIO('/');
  expect(await run(['--help'], io)).toBe(0);
  expect(io.out).toContain('--flash-size');
  const bad = memoryIO('/');
  await expect(run(['--chip', 'esp8266'], bad)).rejects.toThrow(/unknown --chip 'esp8266'/);
  await expect(run(['--flash-size', '3MB'], bad)).rejects.toThrow(/power of two/);
  await expect(run(['--mac', '12:34'], bad)).rejects.toThrow(/invalid --mac/);
});

/** Starts `factory-station virtual-chip …`; resolves with its pty path (first stdout line). */
async function serveChip(args: string[]) {
  const child = spawn(process.execPath, ['bin/factory-station', 'virtual-chip', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const path = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`virtual-chip exited ${code}`)));
  });
  return { child, exited, path };
}

test('serves a chip on a pty: raw SYNC answered; `factory-station flash` writes and verifies through it; SIGTERM dumps the flash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vchip-'));
  dirs.push(dir);
  const dump = join(dir, 'flash.bin');
  const { child, exited, path } = await serveChip(['--chip', 'esp32c3', '--mac', '58:cf:79:00:00:42', '--flash-size', '4MB', '--no-pacing', '--dump', dump]);
  try {
    expect(path).toMatch(/^\/dev\/pts\/\d+$/);

    // Raw SLIP through the pty.
    const raw = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => raw.open((e) => (e ? rej(e) : res())));
    const got: Buffer[] = [];
    raw.on('data', (d: Buffer) => got.push(d));
    raw.write(hex('C0 00 08 24 00 00 00 00 00 07 07 12 20' + ' 55'.repeat(32) + ' C0'));
    await until(() => Buffer.concat(got).length >= 112, 'the 8 SYNC answers', 30_000);
    expect(new Uint8Array(Buffer.concat(got))).toEqual(new Uint8Array(Array.from({ length: 8 }, () => [...hex('C0 01 08 04 00 07 07 12 20 00 00 00 00 C0')]).flat()));
    await new Promise((r) => raw.close(r));

    // The station's flash command as a separate process, through the pty.
    const nvs = join(FIXTURES, 'homekit', 'factory', '01-readme-basic', 'fan_factory.bin');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/factory-station', 'flash', '--port', path, '--partitions', join(FIXTURES, 'partition', 'partitions_hap.csv'), '--factory-nvs', nvs, '--chip', 'esp32c3', '--json'],
      { timeout: 120_000 },
    );
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, chip: 'esp32c3', mac: '58:cf:79:00:00:42', flashSize: 4 * 1024 * 1024 });
    expect(result.warnings.join('\n')).toMatch(/no DTR\/RTS lines: the chip was not reset/);
    const image = new Uint8Array(await readFile(nvs));
    const nvsRegion = result.regions.find((r: { name: string }) => r.name === 'factory_nvs');
    expect(nvsRegion.md5).toBe(md5Hex(new Uint8Array([...image, ...new Uint8Array(0x6000 - image.length).fill(0xff)])));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const flash = new Uint8Array(await readFile(dump));
    expect(flash.length).toBe(4 * 1024 * 1024);
    const table = new Uint8Array(await readFile(join(FIXTURES, 'partition', 'partitions_hap.bin')));
    expect(flash.subarray(0x8000, 0x8000 + table.length)).toEqual(table);
    expect(flash.subarray(0x340000, 0x340000 + image.length)).toEqual(image);
    expect(flash.subarray(0x340000 + image.length, 0x346000).every((b) => b === 0xff)).toBe(true);
    expect(flash[0]).toBe(0xff);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
