// `factory-station nvs generate-key | encrypt | decrypt` replaying the command lines recorded with
// the real nvs_partition_gen.py (cwd = the fixture folder, outputs redirected with --outdir into a
// temp dir), plus the options, errors and outputs around them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { decryptNvsImage } from '../../shared/nvs/encryption.ts';
import { crc32 } from '../../shared/nvs/format.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { expectSameBytes } from './bytes.ts';

const NVS = join(import.meta.dirname, '../fixtures/nvs');
const load = (path: string) => new Uint8Array(readFileSync(path));
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'nvs-crypto-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh output folder per test. */
function outdir(name: string): string {
  return join(tmp, name);
}

async function nvs(args: string[], cwd = NVS) {
  const io = memoryIO(cwd);
  const code = await main(['nvs', ...args], io);
  return { code, out: io.out, err: io.err };
}

/** Structure of a keys file made from random keys: size, CRC, 0xFF tail. */
function expectValidKeysFile(bin: Uint8Array): void {
  expect(bin.length).toBe(4096);
  expect(new DataView(bin.buffer, bin.byteOffset).getUint32(64, true)).toBe(crc32(bin.subarray(0, 64)));
  expect(bin.subarray(68).every((b) => b === 0xff)).toBe(true);
  expect(bin.subarray(0, 64).every((b) => b === 0xff)).toBe(false);
}

interface Run {
  id: string;
  command: string;
  ok: boolean;
  outputs?: { file: string; tool_wrote?: string; stored?: boolean; identical_to?: string }[];
}

/** Every recorded generate-key / encrypt / decrypt run of the NVS vectors. */
function recordedRuns(): { vector: string; run: Run; argv: string[] }[] {
  const runs: { vector: string; run: Run; argv: string[] }[] = [];
  for (const name of readdirSync(NVS).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(NVS, name), 'utf8'));
    for (const run of doc.runs as Run[]) {
      const words = run.command.split('#')[0]!.trim().split(/\s+/);
      if (words[0] !== 'nvs_partition_gen.py' || !['generate-key', 'encrypt', 'decrypt'].includes(words[1]!)) continue;
      runs.push({ vector: name.replace(/\.json$/, ''), run, argv: words.slice(1) });
    }
  }
  return runs;
}

describe('recorded nvs_partition_gen.py runs replayed through factory-station nvs', () => {
  const runs = recordedRuns();

  it('finds the recorded runs', () => {
    expect(runs.map((r) => `${r.vector}/${r.run.id}`)).toEqual(expect.arrayContaining([
      'enc_basic/keys', 'enc_basic/v2.enc', 'enc_basic/v2.dec', 'enc_basic/v1.enc', 'enc_basic/v1.dec', 'enc_basic/v2.homekit.dec',
      'enc_hmac/keys', 'enc_hmac/idf_testdata_keys', 'enc_hmac/v2.enc', 'enc_hmac/v2.enc.inputkey', 'enc_hmac/v2.dec',
      'enc_roundtrip/keys', 'enc_roundtrip/v2.enc', 'enc_roundtrip/v2.dec',
    ]));
  });

  for (const { vector, run, argv } of runs) {
    it(`${vector} ${run.id}: ${argv.join(' ')}`, async () => {
      const dir = outdir(`${vector}-${run.id}`);
      const r = await nvs([...argv, '--outdir', dir]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const randomKeys = run.command.includes('random.seed');
      for (const o of run.outputs!) {
        const produced = load(join(dir, o.tool_wrote ?? o.file));
        if (randomKeys) {
          expectValidKeysFile(produced); // random key bytes: only the structure can match
        } else {
          expectSameBytes(produced, load(join(NVS, o.stored === false ? o.identical_to! : o.file)));
        }
      }
      if (argv[0] === 'generate-key') expect(r.out).toMatch(/^\nCreated encryption keys: ===> {2}\S+\n$/);
      if (argv[0] === 'decrypt') expect(r.out).toBe(`\nCreated NVS decrypted binary: ===> ${join(dir, run.outputs![0]!.file)}\n`);
      if (argv[0] === 'encrypt') expect(r.out).toContain(`\nCreated NVS binary: ===> ${join(dir, run.outputs![0]!.file)}\n`);
    });
  }

  it('the HomeKit-copy layout of encrypt reproduces enc_basic.v2.homekit.enc.bin (--layout homekit)', async () => {
    const dir = outdir('homekit-layout');
    const r = await nvs(['encrypt', 'enc_basic.csv', 'out.bin', '0x4000', '--inputkey', 'enc_basic.keys.bin', '--layout', 'homekit', '--outdir', dir]);
    expect(r.code).toBe(0);
    expectSameBytes(load(join(dir, 'out.bin')), load(join(NVS, 'enc_basic.v2.homekit.enc.bin')));
  });
});

describe('nvs generate-key', () => {
  it('default name keys/keys-MM-DD_HH-MM.bin with fresh random keys, mode 0600', async () => {
    const dir = outdir('gk-default');
    const r = await nvs(['generate-key', '--outdir', dir]);
    expect(r.code).toBe(0);
    const names = readdirSync(join(dir, 'keys'));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^keys-\d\d-\d\d_\d\d-\d\d\.bin$/);
    const path = join(dir, 'keys', names[0]!);
    expectValidKeysFile(load(path));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(r.out).toBe(`\nCreated encryption keys: ===>  ${path}\n`);
    const again = await nvs(['generate-key', '--outdir', dir, '--keyfile', 'second']);
    expect(again.code).toBe(0);
    expect(load(join(dir, 'keys', 'second.bin')).subarray(0, 64)).not.toEqual(load(path).subarray(0, 64));
  });

  it('--key_protect_hmac --kp_hmac_keygen saves the HMAC key and derives the keys from it', async () => {
    const dir = outdir('gk-hmac-keygen');
    const r = await nvs(['generate-key', '--key_protect_hmac', '--kp_hmac_keygen', '--keyfile', 'k.bin', '--outdir', dir]);
    expect(r.code).toBe(0);
    const hmacKey = load(join(dir, 'keys', 'hmac-k.bin'));
    expect(hmacKey.length).toBe(32);
    const keys = parseKeysPartition(load(join(dir, 'keys', 'k.bin')));
    const seed = (b: number[]) => Buffer.from(Array.from({ length: 8 }, () => b).flat());
    expect(Buffer.from(keys.encryptionKey)).toEqual(createHmac('sha256', hmacKey).update(seed([0x5a, 0x5a, 0xbe, 0xae])).digest());
    expect(Buffer.from(keys.tweakKey)).toEqual(createHmac('sha256', hmacKey).update(seed([0xa5, 0xa5, 0xde, 0xce])).digest());
  });

  it('--kp_hmac_keyfile names the HMAC key file', async () => {
    const dir = outdir('gk-hmac-keyfile');
    expect((await nvs(['generate-key', '--key_protect_hmac', '--kp_hmac_keygen', '--kp_hmac_keyfile', 'hk', '--keyfile', 'k', '--outdir', dir])).code).toBe(0);
    expect(readdirSync(join(dir, 'keys')).sort()).toEqual(['hk.bin', 'k.bin']);
  });

  it('HMAC scheme without an HMAC key: clear error, nothing written', async () => {
    const dir = outdir('gk-hmac-missing');
    const r = await nvs(['generate-key', '--key_protect_hmac', '--outdir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/HMAC Key input file \(HMAC-based encryption scheme\) missing!/);
    expect(existsSync(join(dir, 'keys')) && readdirSync(join(dir, 'keys')).length).toBeFalsy();
  });

  it('refuses a keys file name with another extension', async () => {
    const r = await nvs(['generate-key', '--keyfile', 'k.txt', '--outdir', outdir('gk-ext')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error: `k.txt`. Only `.bin` extension allowed.\n');
  });
});

describe('nvs encrypt', () => {
  it('--keygen writes the keys and an image that decrypts to the reference plain image', async () => {
    const dir = outdir('enc-keygen');
    const r = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x4000', '--keygen', '--keyfile', 'mine.bin', '--outdir', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `\nCreated encryption keys: ===>  ${join(dir, 'keys', 'mine.bin')}\n` +
        '\nCreating NVS binary with version: V2 - Multipage Blob Support Enabled\n' +
        `\nCreated NVS binary: ===> ${join(dir, 'e.bin')}\n`,
    );
    const keys = parseKeysPartition(load(join(dir, 'keys', 'mine.bin')));
    expectSameBytes(decryptNvsImage(load(join(dir, 'e.bin')), keys), load(join(NVS, 'enc_basic.v2.bin')));
  });

  it('needs exactly one of --keygen / --inputkey', async () => {
    const neither = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x4000', '--outdir', outdir('enc-neither')]);
    expect([neither.code, neither.err]).toEqual([1, 'Error. --keygen or --inputkey argument needed.\n']);
    const both = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x4000', '--keygen', '--inputkey', 'enc_basic.keys.bin', '--outdir', outdir('enc-both')]);
    expect([both.code, both.err]).toEqual([1, 'Error. --keygen and --inputkey both are not allowed.\n']);
    expect(existsSync(outdir('enc-neither'))).toBe(false);
  });

  it('--keyfile with --inputkey is ignored with the reference warning', async () => {
    const dir = outdir('enc-warn');
    const r = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x4000', '--inputkey', 'enc_basic.keys.bin', '--keyfile', 'x.bin', '--outdir', dir]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('\nWarning: --inputkey argument is given. --keyfile argument will be ignored...\n')).toBe(true);
    expect(existsSync(join(dir, 'keys'))).toBe(false);
  });

  it('refuses a corrupted keys file with a clear one-line message and writes nothing', async () => {
    const dir = outdir('enc-badkeys');
    const bad = load(join(NVS, 'enc_basic.keys.bin'));
    bad[3] ^= 0x10;
    writeFileSync(join(tmp, 'bad.keys.bin'), bad);
    const r = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x4000', '--inputkey', join(tmp, 'bad.keys.bin'), '--outdir', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: \S+bad\.keys\.bin: keys file is corrupted: CRC32 at offset 64 is 0x[0-9a-f]{8}, the 64 key bytes give 0x[0-9a-f]{8}\n$/);
    expect(existsSync(join(dir, 'e.bin'))).toBe(false);
  });

  it('bad CSV content with --keygen: exit 254, neither image nor keys written', async () => {
    const dir = outdir('enc-badcsv');
    const r = await nvs(['encrypt', 'err_hex_odd_length.csv', 'e.bin', '0x3000', '--keygen', '--outdir', dir]);
    expect(r.code).toBe(254);
    expect(r.err).toMatch(/err_hex_odd_length\.csv line \d+/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'e.bin'))).toBe(false);
    expect(existsSync(join(dir, 'keys')) && readdirSync(join(dir, 'keys')).length).toBeFalsy();
  });

  it('size and output-name checks come from the shared generate rules', async () => {
    const r = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x3001', '--keygen', '--outdir', outdir('enc-size')]);
    expect([r.code, r.err]).toEqual([1, 'Size of partition must be multiple of 4096\n']);
    const n = await nvs(['encrypt', 'enc_basic.csv', 'e.img', '0x3000', '--inputkey', 'enc_basic.keys.bin', '--outdir', outdir('enc-name')]);
    expect([n.code, n.err]).toEqual([1, 'Error: `e.img`. Only `.bin` extension allowed.\n']);
    const k = await nvs(['encrypt', 'enc_basic.csv', 'e.bin', '0x3000', '--inputkey', 'enc_basic.csv', '--outdir', outdir('enc-keyname')]);
    expect([k.code, k.err]).toEqual([1, 'Error: `enc_basic.csv`. Only `.bin` extension allowed.\n']);
  });
});

describe('nvs decrypt', () => {
  it('all three names need .bin', async () => {
    const r = await nvs(['decrypt', 'enc_basic.v2.enc.bin', 'enc_basic.keys.bin', 'out.txt', '--outdir', outdir('dec-ext')]);
    expect([r.code, r.err]).toEqual([1, 'Error: `out.txt`. Only `.bin` extension allowed.\n']);
  });

  it('missing positional → usage error (exit 2)', async () => {
    const r = await nvs(['decrypt', 'enc_basic.v2.enc.bin']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('the following arguments are required: key, output');
  });

  it('accepts 64 bare key bytes', async () => {
    const dir = outdir('dec-raw');
    writeFileSync(join(tmp, 'raw.bin'), load(join(NVS, 'enc_roundtrip.keys.bin')).subarray(0, 64));
    const r = await nvs(['decrypt', 'enc_roundtrip.v2.enc.bin', join(tmp, 'raw.bin'), 'd.bin', '--outdir', dir]);
    expect(r.code).toBe(0);
    expectSameBytes(load(join(dir, 'd.bin')), load(join(NVS, 'enc_roundtrip.v2.bin')));
  });

  it('--help for every crypto sub-command', async () => {
    for (const sub of ['generate-key', 'encrypt', 'decrypt', 'inspect']) {
      const r = await nvs([sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: factory-station nvs ${sub} `));
    }
  });
});
