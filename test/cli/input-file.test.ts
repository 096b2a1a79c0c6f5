// Input files: a device named by mistake (a serial port, /dev/zero) is refused before any read —
// reading it would block or never end — while pipes and ordinary files read normally.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInputFile, readInputFileSync } from '../../src-main/fs/index.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';

const root = mkdtempSync(join(tmpdir(), 'input-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hasDevZero = existsSync('/dev/zero');

describe('readInputFile', () => {
  it('reads a regular file, sync and async, byte for byte', async () => {
    const file = join(root, 'data.bin');
    const data = new Uint8Array([0, 1, 2, 254, 255]);
    writeFileSync(file, data);
    expect(readInputFileSync(file)).toEqual(data);
    expect(await readInputFile(file)).toEqual(data);
  });

  it.runIf(hasDevZero)('refuses a device with EFTYPE naming it', async () => {
    expect(() => readInputFileSync('/dev/zero')).toThrow(expect.objectContaining({ code: 'EFTYPE', path: '/dev/zero' }));
    await expect(readInputFile('/dev/zero')).rejects.toMatchObject({ code: 'EFTYPE', path: '/dev/zero' });
  });

  it('keeps the usual errors for a missing file', () => {
    expect(() => readInputFileSync(join(root, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe.runIf(hasDevZero)('CLIs given /dev/zero as an input: exit 1 with one line, no hang', () => {
  it.each([
    [['nvs', 'inspect', '/dev/zero'], /^error: \/dev\/zero: a device, not a file$/],
    [['nvs', 'generate', '/dev/zero', 'out.bin', '0x6000'], /\/dev\/zero: a device, not a file/],
    [['flash', '--port', 'virtual:esp32', '--partitions', '/dev/zero', '--factory-nvs', '/dev/zero'], /^flash: partition table \/dev\/zero: a device, not a file$/],
    [['batch', '--conf', '/dev/zero', '--values', '/dev/zero', '--prefix', 'P', '--cid', '3', '--size', '0x3000', '--outdir', 'o'], /\/dev\/zero: .*a device, not a file/],
  ])('%j', async (args, message) => {
    const io = memoryIO(root);
    const code = await main(args, io);
    expect(code).toBe(1);
    expect(io.err.trim().split('\n').at(-1)).toMatch(message);
    expect(existsSync(join(root, 'out.bin'))).toBe(false);
  });
});
