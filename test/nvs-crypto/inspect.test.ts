// `factory-station nvs inspect IMAGE [--keyfile F] [--json]`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { encryptNvsImage } from '../../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { generateNvsImage } from '../../shared/nvs/writer.ts';

const ROOT = join(import.meta.dirname, '../..');
const NVS = join(ROOT, 'test/fixtures/nvs');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nvs-inspect-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function inspect(args: string[], cwd = NVS) {
  const io = memoryIO(cwd);
  const code = await main(['nvs', 'inspect', ...args], io);
  return { code, out: io.out, err: io.err };
}

const hapFactory = JSON.parse(readFileSync(join(NVS, 'hap_factory.json'), 'utf8'));
const vectorHex = (key: string) =>
  Buffer.from(hapFactory.items.find((i: { key: string }) => i.key === key).base64, 'base64').toString('hex');

describe('nvs inspect', () => {
  it('lists pages, namespaces and items of a clean image, exit 0', async () => {
    const r = await inspect(['hap_factory.v2.bin']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('0  ACTIVE  seq 0  v2  header CRC ok  21 written, 0 erased');
    expect(r.out).toContain('1  hap_setup  page 0 slot 0');
    expect(r.out).toContain(vectorHex('setup_salt'));
    expect(r.out).toMatch(/setup_id\s+blob\(v2\)\s+[0-9a-f]{8} "[0-9A-Z]{4}"/);
    expect(r.out).toContain('problems: none');
  });

  it('--json carries the full values', async () => {
    const r = await inspect(['hap_factory.v2.bin', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.problems).toEqual([]);
    const byKey = Object.fromEntries(doc.items.map((i: { key: string; value: string }) => [i.key, i.value]));
    expect(byKey.setup_salt).toBe(vectorHex('setup_salt'));
    expect(byKey.setup_verifier).toBe(vectorHex('setup_verifier'));
  });

  it('--keyfile decrypts first; without it the encrypted image is reported with a hint, exit 1', async () => {
    const withKeys = await inspect(['enc_basic.v2.enc.bin', '--keyfile', 'enc_basic.keys.bin', '--json']);
    expect(withKeys.code).toBe(0);
    const doc = JSON.parse(withKeys.out);
    expect(doc.items.map((i: { key: string }) => i.key)).toEqual(['u8k', 'i32k', 'u32k', 'str', 'blob', 'b64']);
    expect(doc.items.find((i: { key: string }) => i.key === 'u32k').value).toBe('3000000000');
    const without = await inspect(['enc_basic.v2.enc.bin']);
    expect(without.code).toBe(1);
    expect(without.out).toContain('the image is probably encrypted');
    expect(without.out).toMatch(/page 0 slot 0: entry CRC mismatch/);
  });

  it('a damaged image: problems listed with page and slot, exit 1', async () => {
    const img = new Uint8Array(readFileSync(join(NVS, 'enc_basic.v2.bin')));
    img[64 + 32 + 9] ^= 0x20;
    writeFileSync(join(tmp, 'damaged.bin'), img);
    const r = await inspect([join(tmp, 'damaged.bin')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/\nproblems \(1\):\n {2}page 0 slot 1: entry CRC mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\n$/);
  });

  it('never prints hap_setup/setup_code, in text or JSON, plain or encrypted', async () => {
    const code = '518-08-582';
    const csv = `key,type,encoding,value\nhap_setup,namespace,,\nsetup_code,data,string,${code}\nsetup_id,data,binary,ES32\n`;
    const plain = generateNvsImage(csv, { size: 0x3000, version: 2 });
    writeFileSync(join(tmp, 'secret.bin'), plain);
    writeFileSync(join(tmp, 'secret.enc.bin'), encryptNvsImage(plain, parseKeysPartition(new Uint8Array(readFileSync(join(NVS, 'enc_basic.keys.bin'))))));
    const runs = [
      await inspect([join(tmp, 'secret.bin')]),
      await inspect([join(tmp, 'secret.bin'), '--json']),
      await inspect([join(tmp, 'secret.enc.bin'), '--keyfile', 'enc_basic.keys.bin']),
      await inspect([join(tmp, 'secret.enc.bin'), '--keyfile', 'enc_basic.keys.bin', '--json']),
    ];
    const forms = [code, code.replace(/-/g, ''), Buffer.from(code).toString('hex'), Buffer.from(code).toString('base64')];
    for (const r of runs) {
      expect(r.code).toBe(0);
      for (const f of forms) expect(r.out + r.err).not.toContain(f);
      expect(r.out).toContain('setup_code');
    }
    expect(runs[0]!.out).toMatch(/setup_code\s+string\s+<hidden>/);
    const item = JSON.parse(runs[1]!.out).items.find((i: { key: string }) => i.key === 'setup_code');
    expect(item).toMatchObject({ value: null, redacted: true });
  });

  it('rejects a file that is not whole pages, and usage errors', async () => {
    writeFileSync(join(tmp, 'short.bin'), new Uint8Array(100));
    const r = await inspect([join(tmp, 'short.bin')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/100 bytes is not a whole number of 4096-byte NVS pages\n$/);
    const u = await inspect([]);
    expect(u.code).toBe(2);
    expect(u.err).toContain('the following arguments are required: image');
  });

  it('works through the real bin/factory-station', async () => {
    const run = promisify(execFile);
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin/factory-station'), 'nvs', 'inspect', 'hk_fan_factory.bin'], { cwd: NVS });
    expect(stdout).toContain('hap_setup');
    expect(stdout).toContain('problems: none');
    expect(stdout).toContain('1 page(s): a read/write NVS partition needs at least 3');
  });
});
