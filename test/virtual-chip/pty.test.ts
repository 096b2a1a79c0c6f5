// The `virtual-chip` command end to end: real bin, real pty (socat), real serialport binding.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, test } from 'vitest';
import { SerialPort } from 'serialport';
import { ESPLoader, Transport } from 'esptool-js';
import { NodeSerialDevice } from '../../src-main/flash/transport.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { run } from '../../src-main/cli/commands/virtual-chip.ts';
import { md5Hex, testImage } from './helpers/session.ts';
import { hex } from './helpers/raw.ts';

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

test('serves a chip on a pty: path on stdout line 1, raw SYNC answered, esptool-js writes, SIGTERM dumps flash', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vchip-'));
  dirs.push(dir);
  const dump = join(dir, 'flash.bin');
  const child = spawn(process.execPath, ['bin/factory-station', 'virtual-chip', '--chip', 'esp32c3', '--mac', '58:cf:79:00:00:42', '--flash-size', '2MB', '--no-pacing', '--dump', dump], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    expect(firstLine).toMatch(/^\/dev\/pts\/\d+$/);

    // Raw SLIP through the pty.
    const raw = new SerialPort({ path: firstLine, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => raw.open((e) => (e ? rej(e) : res())));
    const got: Buffer[] = [];
    raw.on('data', (d: Buffer) => got.push(d));
    raw.write(hex('C0 00 08 24 00 00 00 00 00 07 07 12 20' + ' 55'.repeat(32) + ' C0'));
    const deadline = Date.now() + 3000;
    while (Buffer.concat(got).length < 112 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(new Uint8Array(Buffer.concat(got))).toEqual(new Uint8Array(Array.from({ length: 8 }, () => [...hex('C0 01 08 04 00 07 07 12 20 00 00 00 00 C0')]).flat()));
    await new Promise((r) => raw.close(r));

    // esptool-js over the pty (no reset lines on a pty, so no_reset).
    const device = new NodeSerialDevice(new SerialPort({ path: firstLine, baudRate: 115200, autoOpen: false }));
    const log: string[] = [];
    const loader = new ESPLoader({
      transport: new Transport(device as unknown as ConstructorParameters<typeof Transport>[0]),
      baudrate: 460800,
      terminal: { clean() {}, writeLine: (s: string) => log.push(s), write: (s: string) => log.push(s) },
    });
    expect(await loader.main('no_reset')).toBe('ESP32-C3 (QFN32) (revision v0.4)');
    expect(log).toContain('MAC: 58:cf:79:00:00:42');
    const image = testImage(20000, 4);
    await loader.writeFlash({
      fileArray: [{ data: image, address: 0x9000 }],
      flashSize: 'keep', flashMode: 'keep', flashFreq: 'keep', eraseAll: false, compress: true, calculateMD5Hash: md5Hex,
    });
    expect(log).toContain('Hash of data verified.');
    expect(await loader.readFlash(0x9000, image.length)).toEqual(image);
    await loader.transport.disconnect();

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const flash = new Uint8Array(await readFile(dump));
    expect(flash.length).toBe(2 * 1024 * 1024);
    expect(flash.subarray(0x9000, 0x9000 + image.length)).toEqual(image);
    expect(flash[0]).toBe(0xff);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
