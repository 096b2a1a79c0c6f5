import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { tempDir } from './helpers/run-tool.ts';

const QR = 'test/fixtures/homekit/qr';
const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function payload(...args: string[]) {
  const io = memoryIO(dir);
  const code = await main(['payload', ...args], io);
  return { code, out: io.out, err: io.err };
}

function decodePng(bytes: Buffer): string | undefined {
  const png = PNG.sync.read(bytes);
  return jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height)?.data;
}

describe('factory-station payload', () => {
  const vectors = (JSON.parse(readFileSync('test/fixtures/homekit/payloads.json', 'utf8')) as {
    vectors: { category: number; setup_code: string | null; setup_id: string | null; flags: Record<string, boolean>; product_data: string | null; payload: string }[];
  }).vectors;

  it('prints exactly the payload of every vector on one line', async () => {
    for (const v of vectors) {
      const flags = Object.entries(v.flags).filter(([, on]) => on).map(([f]) => f);
      const args = ['--category', String(v.category)];
      if (v.setup_code !== null) args.push('--code', v.setup_code);
      if (v.setup_id !== null) args.push('--id', v.setup_id);
      if (flags.length > 0) args.push('--flags', flags.join(','));
      if (v.product_data !== null) args.push('--product-data', v.product_data);
      if (v.setup_code === null && !v.flags.paired) continue; // the ADK's "no code" form has no CLI spelling
      const r = await payload(...args);
      expect(r, v.payload).toEqual({ code: 0, out: `${v.payload}\n`, err: '' });
    }
  });

  it("defaults to Espressif's flags (IP + WAC), like setup_payload_gen.py", async () => {
    expect((await payload('--category', '7', '--code', '51808582', '--id', '7OSX')).out).toBe('X-HM://007JNU5AE7OSX\n');
  });

  it('writes the QR code as the reference SVG and PNG (byte for byte), both decodable', async () => {
    const expected = readFileSync(join(QR, 'expected.txt'), 'utf8').trim();
    expect(expected).toBe('X-HM://0071WK4SM7OSX');
    const svg = await payload('--category', '7', '--code', '518-08-582', '--id', '7OSX', '--flags', 'ip', '--qr', 'label.svg');
    expect(svg.out).toBe(`${expected}\n`);
    expect(readFileSync(join(dir, 'label.svg'), 'utf8')).toBe(readFileSync(join(QR, 'qr.svg'), 'utf8'));
    const png = await payload('--category', '7', '--code', '51808582', '--id', '7OSX', '--flags', 'ip', '--qr', 'label.png');
    expect(png.code).toBe(0);
    const written = readFileSync(join(dir, 'label.png'));
    expect(written.equals(readFileSync(join(QR, 'qr.png')))).toBe(true);
    expect(decodePng(written)).toBe(expected);
    expect(decodePng(readFileSync(join(QR, 'qr-nomargin.png')))).toBe(expected);
  });

  it('QR codes of product-data payloads decode too', async () => {
    const r = await payload('--category', '7', '--code', '51808582', '--id', '7OSX', '--product-data', '1122334455667788', '--qr', 'pd.png');
    expect(r.out).toBe('X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S\n');
    expect(decodePng(readFileSync(join(dir, 'pd.png')))).toBe('X-HM://0E8NKO6YU7OSX0CZ067T6WCYA44AY9S');
  });

  it.each([
    [['--category', '7', '--code', '00000000', '--id', '7OSX'], /forbids/],
    [['--category', '0', '--code', '51808582', '--id', '7OSX'], /--category must be a number from 1 to 255/],
    [['--category', '7', '--code', '51808582', '--id', '7osx'], /setup ID "7osx" is invalid/],
    [['--category', '7', '--id', '7OSX'], /--code is required/],
    [['--category', '7', '--code', '51808582', '--id', '7OSX', '--flags', 'ip,nfc'], /unknown flag "nfc"/],
    [['--category', '7', '--code', '51808582', '--id', '7OSX', '--bogus'], /^factory-station payload: unknown option --bogus \(see factory-station payload --help\)\n$/],
    [['--category', '7', '--code', '51808582', '--id', '7OSX', '--qr', 'x.jpg'], /must end in \.svg or \.png/],
  ])('%j is refused with one line on stderr', async (args, message) => {
    const r = await payload(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain('00000000');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'x.jpg'))).toBe(false);
  });

  it('answers --help', async () => {
    const r = await payload('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage: factory-station payload');
  });

  it('works through the real bin/factory-station', () => {
    const p = spawnSync(process.execPath, [resolve('bin/factory-station'), 'payload', '--category', '5', '--code', '012-34-567', '--id', 'LGHT'], { encoding: 'utf8' });
    expect(p.status).toBe(0);
    expect(p.stdout).toBe('X-HM://005JSM45JLGHT\n');
  });
});
