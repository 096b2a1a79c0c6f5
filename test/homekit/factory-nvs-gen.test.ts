// factory-nvs-gen against the recorded runs of factory_nvs_gen.py (vectors factory/, quirks/,
// cli-errors.json): same bytes, same stdout/stderr, same exit codes — except where the quirks
// say we do better (bad codes/IDs/salts rejected, nothing written when an input is bad).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { SRP } from 'fast-srp-hap';
import { runTool, readSetupInfo, listFiles, tempDir, type ToolRun } from './helpers/run-tool.ts';
import { pairSetup, useOpenSslModPow } from './helpers/fast-srp.ts';
import { decryptNvsImage } from '../../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../../shared/nvs/keys.ts';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';

const FIXTURES = 'test/fixtures/homekit';
const FACTORY = join(FIXTURES, 'factory');
const QUIRKS = join(FIXTURES, 'quirks');

interface CaseJson {
  id: string;
  argv: string[];
  setup_code: string;
  salt_hex: string;
  inputs: string[];
  exit_code: number;
  stdout: string;
  stderr: string;
  outputs: { path: string; bytes: number; sha256: string }[];
  deterministic: boolean;
}
const readCase = (dir: string) => JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
const password = (digits: string) => `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`;

/** The keygen vector's local time: keys/encryption_keys_11-23_21-38.bin. */
const KEYGEN_TIME = () => new Date(2024, 10, 23, 21, 38, 5);

const runs: ToolRun[] = [];
async function run(...args: Parameters<typeof runTool>): Promise<ToolRun> {
  const r = await runTool(...args);
  runs.push(r);
  return r;
}
afterAll(() => runs.forEach((r) => r.cleanup()));
beforeAll(() => useOpenSslModPow());

describe('factory/ cases replayed', () => {
  const deterministic = readdirSync(FACTORY).sort().filter((name) => readCase(join(FACTORY, name)).deterministic);
  expect(deterministic.length).toBe(11);

  it.each(deterministic)('%s: same stdout, exit code, files and bytes', async (name) => {
    const dir = join(FACTORY, name);
    const c = readCase(dir);
    const r = await run(c.argv.slice(1), { from: dir, names: c.inputs });
    expect(r.stdout).toBe(c.stdout);
    expect(r.stderr).toBe(c.stderr);
    expect(r.code).toBe(c.exit_code);
    expect(r.files).toEqual([...c.inputs, ...c.outputs.map((o) => o.path)].sort());
    for (const o of c.outputs) expect(r.read(o.path).equals(readFileSync(join(dir, o.path))), o.path).toBe(true);
  });

  it('12-keygen: same stdout and CSV; a CSPRNG key in keys/encryption_keys_<MM-DD_HH-MM>.bin that decrypts a pairable image', async () => {
    const dir = join(FACTORY, '12-keygen');
    const c = readCase(dir);
    const r = await run(c.argv.slice(1), {}, { now: KEYGEN_TIME });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(c.stdout);
    expect(r.stderr).toBe('');
    expect(r.files).toEqual(c.outputs.map((o) => o.path).sort());
    expect(r.read('enc.csv').equals(readFileSync(join(dir, 'enc.csv')))).toBe(true);

    const keysFile = r.read('keys/encryption_keys_11-23_21-38.bin');
    expect(keysFile.length).toBe(4096);
    const keys = parseKeysPartition(keysFile); // CRC32 checked
    const encrypted = new Uint8Array(r.read('enc.bin')); // a copy: decryptNvsImage must not see a Buffer view
    expect(encrypted.length).toBe(16384);
    // Same structure as the reference: both decrypt (each with its own key) to the same plain image,
    // which is the unencrypted image of the same inputs (case 01).
    const plain = decryptNvsImage(encrypted, keys);
    const referencePlain = decryptNvsImage(new Uint8Array(readFileSync(join(dir, 'enc.bin'))), parseKeysPartition(readFileSync(join(dir, 'keys/encryption_keys_11-23_21-38.bin'))));
    expect(Buffer.from(plain).equals(Buffer.from(referencePlain))).toBe(true);
    expect(Buffer.from(plain).equals(readFileSync(join(FACTORY, '01-readme-basic/fan_factory.bin')))).toBe(true);
    expect(Buffer.from(encrypted).equals(Buffer.from(plain))).toBe(false);
    const info = readSetupInfo(plain);
    expect(pairSetup(info.salt, info.verifier, '111-22-333')).toEqual({ ok: true });
  });

  it('keygen takes its key bytes from the injected random source', async () => {
    const key = Buffer.alloc(64, 0x5a);
    const r = await run(['11122333', 'ES32', 'enc', '--encrypt', 'true', '--keygen', 'true', '--salt', '00112233445566778899aabbccddeeff'], {}, {
      now: () => new Date(2025, 0, 2, 3, 4),
      randomBytes: (n) => new Uint8Array(key.subarray(0, n)),
    });
    expect(r.code).toBe(0);
    const keysFile = r.read('keys/encryption_keys_01-02_03-04.bin');
    expect(keysFile.subarray(0, 64).equals(key)).toBe(true);
  });

  it('every produced image pairs with its setup code (fast-srp-hap, salt + verifier read back from the .bin)', async () => {
    for (const name of deterministic) {
      const dir = join(FACTORY, name);
      const c = readCase(dir);
      const binPath = c.outputs.find((o) => o.path.endsWith('.bin'))!.path;
      let image: Uint8Array = readFileSync(join(dir, binPath));
      if (c.argv.includes('--encrypt')) image = decryptNvsImage(image, parseKeysPartition(readFileSync(join(dir, 'nvs_keys.bin'))));
      const info = readSetupInfo(image);
      expect(pairSetup(info.salt, info.verifier, password(c.setup_code)), name).toEqual({ ok: true });
      const wrong = c.setup_code === '11122333' ? '111-22-334' : '111-22-333';
      expect(pairSetup(info.salt, info.verifier, wrong).ok, name).toBe(false);
    }
  });
});

describe('quirks/: what the reference got wrong, done right', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  it('q1: a random salt starting with 0x00 still pairs (x over all 16 bytes)', async () => {
    const dir = join(QUIRKS, 'q1-random-salt-leading-zero');
    const c = readCase(dir);
    const forcedSalt = Buffer.from(c.salt_hex, 'hex');
    const r = await run(c.argv.slice(1), {}, { randomBytes: (n) => new Uint8Array(forcedSalt.subarray(0, n)) });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(c.stdout);
    const bugCsv = readFileSync(join(dir, 'bug.csv'), 'utf8');
    const rightVerifier = SRP.computeVerifier(SRP.params.hap, forcedSalt, Buffer.from('Pair-Setup'), Buffer.from('111-22-333')).toString('hex');
    const expectedCsv = bugCsv.replace(/setup_verifier,data,hex2bin,[0-9a-f]+$/, `setup_verifier,data,hex2bin,${rightVerifier.padStart(768, '0')}`);
    expect(expectedCsv).not.toBe(bugCsv);
    expect(r.read('bug.csv').toString('utf8')).toBe(expectedCsv);
    const info = readSetupInfo(r.read('bug.bin'));
    expect(hex(info.salt)).toBe(c.salt_hex);
    expect(pairSetup(info.salt, info.verifier, '111-22-333')).toEqual({ ok: true });
    // The reference image does not pair: that is the bug.
    const ref = readSetupInfo(readFileSync(join(dir, 'bug.bin')));
    expect(pairSetup(ref.salt, ref.verifier, '111-22-333').ok).toBe(false);
  });

  it('q2: a custom file without final newline keeps its value and hap_setup gets the keys', async () => {
    const dir = join(QUIRKS, 'q2-infile-no-trailing-newline');
    const c = readCase(dir);
    const r = await run(c.argv.slice(1), { from: dir, names: c.inputs });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(c.stdout);
    const image = readNvsImage(r.read('glued.bin'));
    expect(Buffer.from(findBlob(image, 'app', 'serial_num')!).toString()).toBe('12345');
    expect(findBlob(image, 'app', 'setup_salt')).toBeUndefined();
    const info = readSetupInfo(r.read('glued.bin'));
    expect(info.setupId).toBe('ES32');
    expect(pairSetup(info.salt, info.verifier, '111-22-333')).toEqual({ ok: true });
  });

  it('q3: a forbidden setup code is rejected, nothing is written, the code is not echoed', async () => {
    const c = readCase(join(QUIRKS, 'q3-no-code-blacklist'));
    const r = await run(c.argv.slice(1));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: setup code is one of the 12 codes HomeKit forbids.*\n$/);
    expect(r.stderr).not.toContain('00000000');
    expect(r.files).toEqual([]);
  });

  it('q4: an invalid setup ID is rejected and nothing is written', async () => {
    const c = readCase(join(QUIRKS, 'q4-setup-id-not-validated'));
    const r = await run(c.argv.slice(1));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('Error: setup ID "es32x" is invalid: it must be exactly 4 characters 0-9 or A-Z (upper case), e.g. ES32\n');
    expect(r.files).toEqual([]);
  });

  it('q5: a salt that is not exactly 16 bytes is rejected and nothing is written', async () => {
    const c = readCase(join(QUIRKS, 'q5-short-salt'));
    for (const argv of [c.argv.slice(1), ['11122333', 'ES32', 'x', '--salt', '00112233445566778899aabbccddeeff0011']]) {
      const r = await run(argv);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^Error: --salt must be exactly 32 hexadecimal digits \(16 bytes\); got (4|18) bytes\n$/);
      expect(r.files).toEqual([]);
    }
  });
});

interface CliErrorCase {
  id: string;
  tool: string;
  argv: string[];
  inputs: Record<string, string>;
  exit_code: number;
  stdout: string;
  stderr: string;
  files_left_behind: string[];
}

describe('cli-errors.json (factory_nvs_gen.py entries)', () => {
  const all = (JSON.parse(readFileSync(join(FIXTURES, 'cli-errors.json'), 'utf8')) as { cases: CliErrorCase[] }).cases;
  const cases = all.filter((c) => c.tool === 'factory_nvs_gen.py');
  /** Quirk q5 covers every salt that is not exactly 32 hex digits. */
  const REJECTED_BY_QUIRKS = new Set(['salt-long']);
  const decodeInputs = (c: CliErrorCase) =>
    Object.fromEntries(Object.entries(c.inputs).map(([name, v]) => [name, name.endsWith('.csv') ? v : Buffer.from(v, 'base64')]));

  it('has the recorded cases', () => {
    expect(cases.length).toBe(23);
  });

  it.each(cases.filter((c) => !REJECTED_BY_QUIRKS.has(c.id)).map((c) => [c.id, c] as const))('%s', async (_, c) => {
    const r = await run(c.argv.slice(1), decodeInputs(c));
    expect(r.code).toBe(c.exit_code);
    expect(r.stderr).toBe(asOurs(c.stderr));
    const inputs = Object.keys(c.inputs);
    if (c.id === 'help') {
      expect(r.stdout.startsWith(asOurs(c.stdout))).toBe(true); // then our examples and exit codes
    } else if (c.exit_code === 0) {
      expect(r.stdout).toBe(c.stdout);
      expect(r.files).toEqual([...inputs, ...c.files_left_behind].sort());
    } else {
      // Same message and status, but validated before writing: no "CSV Generated" line, no files.
      expect(r.stdout).toBe(c.stdout.replace(/^CSV Generated: .*\n/, ''));
      expect(r.files).toEqual(inputs.sort());
    }
  });

  it('salt-long is rejected (quirk q5) instead of written', async () => {
    const c = cases.find((x) => x.id === 'salt-long')!;
    expect(c.exit_code).toBe(0); // the reference accepted it
    const r = await run(c.argv.slice(1));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--salt must be exactly 32 hexadecimal digits');
    expect(r.files).toEqual([]);
  });

  it('version-upper and size-decimal produce the images of the equivalent canonical options', async () => {
    const salt = ['--salt', '00112233445566778899aabbccddeeff'];
    const upper = await run(['11122333', 'ES32', 'x', '--version', 'V1', ...salt]);
    const lower = await run(['11122333', 'ES32', 'x', '--version', 'v1', ...salt]);
    expect(upper.read('x.bin').equals(lower.read('x.bin'))).toBe(true);
    expect(upper.read('x.bin')[8]).toBe(0xff); // page version byte of v1
    const dec = await run(['11122333', 'ES32', 'x', '--size', '12288', ...salt]);
    const hexSize = await run(['11122333', 'ES32', 'x', '--size', '0x3000', ...salt]);
    expect(dec.read('x.bin').equals(hexSize.read('x.bin'))).toBe(true);
    expect(dec.read('x.bin').length).toBe(0x3000);
  });
});

/** The reference's text as ours prints it: our program name, argparse's continuation lines re-indented to it. */
function asOurs(reference: string): string {
  const before = 'usage: ./factory_nvs_gen.py '.length;
  const after = 'usage: factory-nvs-gen '.length;
  return reference
    .split('\n')
    .map((line) => (line.startsWith(' '.repeat(before)) && line[before] === '[' || line.startsWith(' '.repeat(before)) && /^ +setup_code/.test(line) ? ' '.repeat(after) + line.slice(before) : line))
    .join('\n')
    .replaceAll('./factory_nvs_gen.py', 'factory-nvs-gen');
}

describe('argument handling details', () => {
  const salt = ['--salt', '00112233445566778899aabbccddeeff'];
  const usage = asOurs((JSON.parse(readFileSync(join(FIXTURES, 'cli-errors.json'), 'utf8')) as { cases: CliErrorCase[] }).cases
    .find((c) => c.id === 'missing-positional')!
    .stderr.split('./factory_nvs_gen.py: error:')[0]!);

  it('accepts unambiguous abbreviations and --opt=value like argparse', async () => {
    const r = await run(['11122333', 'ES32', 'fan_factory', '--ver=v2', '--si', '0x4000', '--sal=00112233445566778899aabbccddeeff']);
    expect(r.code).toBe(0);
    expect(r.read('fan_factory.bin').equals(readFileSync(join(FACTORY, '01-readme-basic/fan_factory.bin')))).toBe(true);
  });

  it.each([
    [['11122333', 'ES32', 'x', '--s', '0x4000'], 'ambiguous option: --s could match --size, --salt'],
    [['11122333', 'ES32', 'x', '--k', 'true'], 'ambiguous option: --k could match --keygen, --keyfile'],
    [['11122333', 'ES32', 'x', 'extra', '--bogus'], 'unrecognized arguments: extra --bogus'],
    [['11122333', 'ES32', 'x', '--salt'], 'argument --salt: expected one argument'],
    [['11122333', 'ES32', 'x', '--encrypt', 'yes'], "argument --encrypt: invalid choice: 'yes' (choose from 'true', 'false')"],
    [['11122333'], 'the following arguments are required: setup_id, outfile'],
    [['-hx'], "argument -h/--help: ignored explicit argument 'x'"],
  ])('%j → usage error', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${usage}factory-nvs-gen: error: ${message}\n`);
    expect(r.files).toEqual([]);
  });

  it('--help wins over missing positionals', async () => {
    const help = (JSON.parse(readFileSync(join(FIXTURES, 'cli-errors.json'), 'utf8')) as { cases: CliErrorCase[] }).cases.find((c) => c.id === 'help')!;
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(asOurs(help.stdout))).toBe(true); // the reference's help, then examples and exit codes
    expect(r.stdout).toMatch(/\nexit status:\n/);
  });

  it('a missing --keyfile fails with the reference message before anything is written', async () => {
    const r = await run(['11122333', 'ES32', 'x', '--encrypt', 'true', '--keyfile', 'k.bin', ...salt]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("[Errno 2] No such file or directory: 'k.bin'\n");
    expect(r.files).toEqual([]);
  });

  it('a corrupted keys partition is refused', async () => {
    const keys = Buffer.from(readFileSync(join(FACTORY, '10-encrypt-keyfile/nvs_keys.bin')));
    keys[3] ^= 1;
    const r = await run(['11122333', 'ES32', 'x', '--encrypt', 'true', '--keyfile', 'k.bin', ...salt], { 'k.bin': keys });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: --keyfile k\.bin: keys file is corrupted: CRC32/);
    expect(r.files).toEqual(['k.bin']);
  });

  it('never overwrites an existing keys file (same minute)', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys/encryption_keys_11-23_21-38.bin'), 'old key');
    const r = await run(['11122333', 'ES32', 'enc', '--encrypt', 'true', '--keygen', 'true', '--outdir', dir, ...salt], {}, { now: KEYGEN_TIME });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exists; not overwriting an encryption key');
    expect(readFileSync(join(dir, 'keys/encryption_keys_11-23_21-38.bin'), 'utf8')).toBe('old key');
    expect(r.files).toEqual([]);
    expect(listFiles(dir)).toEqual(['keys/encryption_keys_11-23_21-38.bin']);
  });

  it('puts generated keys where nvs_part_gen does: under <outdir>/keys/, named after --keyfile if given', async () => {
    const enc = ['11122333', 'ES32', 'enc', '--encrypt', 'true', '--keygen', 'true', ...salt];
    const named = await run([...enc, '--keyfile', 'mine.bin', '--outdir', 'out'], {}, { now: KEYGEN_TIME });
    expect(named.code).toBe(0);
    expect(named.stdout).toBe(
      'CSV Generated: enc.csv\nVersion:  v2 - Multipage Blob Support Enabled\nNVS binary created: out/enc.bin\n' +
        'Encryption keys binary created: out/keys/mine.bin\nNVS Flash Binary Generated: enc.bin\n',
    );
    expect(named.files).toEqual(['enc.csv', 'out/enc.bin', 'out/keys/mine.bin']);
    const noExt = await run([...enc, '--keyfile', 'mine'], {}, { now: KEYGEN_TIME });
    expect(noExt.stdout).toContain('Encryption keys binary created: <CWD>/keys/mine.bin\n');
    expect(noExt.files).toEqual(['enc.bin', 'enc.csv', 'keys/mine.bin']);
  });

  it('custom data the SDK generator rejects fails with its message and status, nothing written', async () => {
    const r = await run(['11122333', 'ES32', 'x', '--infile', 'c.csv', ...salt], { 'c.csv': 'key,type,encoding,value\napp,namespace,,\nn,data,i16,5\n' });
    expect(r.code).toBe(254);
    expect(r.stdout).toBe('i16: Unsupported encoding\n');
    expect(r.files).toEqual(['c.csv']);
  });
});

describe('the real bin/factory-nvs-gen', () => {
  const bin = resolve('bin/factory-nvs-gen');

  it('writes the reference bytes for the README example', () => {
    const src = join(FACTORY, '01-readme-basic');
    const c = readCase(src);
    const dir = tempDir();
    const p = spawnSync(process.execPath, [bin, ...c.argv.slice(1)], { cwd: dir, encoding: 'utf8' });
    expect(p.status).toBe(0);
    expect(p.stdout.replaceAll(dir, '<CWD>')).toBe(c.stdout);
    expect(p.stderr).toBe('');
    for (const o of c.outputs) expect(readFileSync(join(dir, o.path)).equals(readFileSync(join(src, o.path)))).toBe(true);
  });

  it('reports a bad setup code on stdout with status 1, like the reference', () => {
    const c = (JSON.parse(readFileSync(join(FIXTURES, 'cli-errors.json'), 'utf8')) as { cases: CliErrorCase[] }).cases.find((x) => x.id === 'code-with-hyphens')!;
    const dir = tempDir();
    const p = spawnSync(process.execPath, [bin, ...c.argv.slice(1)], { cwd: dir, encoding: 'utf8' });
    expect(p.status).toBe(c.exit_code);
    expect(p.stdout).toBe(c.stdout);
    expect(p.stderr).toBe(c.stderr);
    expect(listFiles(dir)).toEqual([]);
  });
});
