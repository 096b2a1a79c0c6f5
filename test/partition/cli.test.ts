// `factory-station partitions …` replaying the recorded gen_esp32part.py command lines in-process
// (cwd = fixture folder, output into a temp dir), plus a few spawns of the real bin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { EXTRA, FIXTURES, extraCases, fixture, vectorRuns, withoutStatus } from './vectors.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'partitions-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(tmp, name.replace(/[^\w.-]/g, '_'));
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Runs the command in-process; binary stdout is collected separately. */
async function partitions(argv: string[], cwd = FIXTURES, env: Record<string, string> = {}) {
  const io = memoryIO(cwd, env);
  const chunks: Uint8Array[] = [];
  const code = await main(['partitions', ...argv], { ...io, stdoutBytes: (d: Uint8Array) => chunks.push(d) });
  return { code, out: io.out, err: io.err, bytes: Buffer.concat(chunks) };
}

describe('replaying the vectors', () => {
  const runs = vectorRuns().filter((r) => r.run.id !== 'bin.idf_v4_3'); // another tool version (see api.test.ts)
  it('covers all 35 runs', () => expect(runs.length).toBe(35));

  it.each(runs.map((r) => [r.id, r] as const))('%s', async (id, r) => {
    const dir = await freshDir(id);
    const target = join(dir, basename(r.output));
    const { code, out, err } = await partitions([r.input, target, ...r.args.slice(2)]);
    expect(out).toBe('');
    if (r.run.ok) {
      expect(withoutStatus(err)).toBe('');
      expect(code).toBe(0);
      expect(Buffer.from(await readFile(target)).equals(Buffer.from(fixture(r.output)))).toBe(true);
      expect(await readdir(dir)).toEqual([basename(r.output)]); // no temp files left
    } else {
      expect(code).toBe(r.run.exit_code);
      expect(withoutStatus(err)).toBe(`${r.run.error!.message}\n`);
      expect(await readdir(dir)).toEqual([]); // nothing written
    }
  });
});

describe('replaying the extra cases recorded from gen_esp32part.py v6.0.2 (complete stderr)', () => {
  const cases = extraCases();
  it('has them all', () => expect(cases.length).toBe(62));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const dir = await freshDir(`extra-${name}`);
    const argv = c.output ? [c.argv[0]!, join(dir, c.argv[1]!), ...c.argv.slice(2)] : [...c.argv];
    const { code, out, err, bytes } = await partitions(argv, EXTRA, c.env);
    expect(err).toBe(c.stderr);
    expect(code).toBe(c.exit_code);
    if (c.output) {
      expect(Buffer.from(await readFile(join(dir, c.argv[1]!))).equals(Buffer.from(fixture(c.output, EXTRA)))).toBe(true);
    } else {
      expect(await readdir(dir)).toEqual([]);
    }
    if (c.stdout_file) {
      const expected = Buffer.from(fixture(c.stdout_file, EXTRA));
      expect(c.argv[0]!.endsWith('.bin') ? Buffer.from(out) : bytes).toEqual(expected);
    } else {
      expect(out).toBe('');
      expect(bytes.length).toBe(0);
    }
  });
});

describe('arguments', () => {
  it('--help prints the usage on stdout', async () => {
    const { code, out } = await partitions(['--help']);
    expect(code).toBe(0);
    expect(out).toContain('usage: factory-station partitions');
    expect(out).toContain('--extra-partition-subtypes');
  });

  it('usage errors exit 2 with one line naming the mistake and the --help hint', async () => {
    const cases: [string[], string][] = [
      [[], 'the following arguments are required: input'],
      [['partitions_hap.csv', 'x.bin', 'y'], 'unrecognized arguments: y'],
      [['partitions_hap.csv', '--flash-size', '3MB'], "argument --flash-size: invalid choice: '3MB'"],
      [['partitions_hap.csv', '--offset', 'zz'], "argument --offset: invalid int value: 'zz'"],
      [['partitions_hap.csv', '--bogus'], 'unrecognized arguments: --bogus'],
      [['missing.csv', 'x.bin'], "argument input: can't open 'missing.csv': No such file or directory"],
      [['partitions_hap.csv', '--secure', 'v3'], "argument --secure: invalid choice: 'v3'"],
    ];
    for (const [argv, message] of cases) {
      const { code, err, out } = await partitions(argv);
      expect([argv, code]).toEqual([argv, 2]);
      expect(err).toMatch(/^factory-station partitions: .* \(see factory-station partitions --help\)\n$/);
      expect(err).toContain(message);
      expect(out).toBe('');
    }
  });

  it('accepts --opt=value, unique prefixes and options before the positionals', async () => {
    const dir = await freshDir('args');
    const { code, err } = await partitions(['--offset=0x10000', '--disable', '-q', 'table_offset.csv', join(dir, 'o.bin')]);
    expect(err).toBe('');
    expect(code).toBe(0);
    // table_offset with --disable-md5sum: the vector's records, then 0xFF where the MD5 record was.
    const expected = Buffer.from(fixture('table_offset.bin'));
    expected.fill(0xff, 0x60, 0x80);
    expect(Buffer.from(await readFile(join(dir, 'o.bin')))).toEqual(expected);
  });

  it('refuses binary output to a stdout that cannot take bytes', async () => {
    const io = memoryIO(FIXTURES);
    const code = await main(['partitions', 'partitions_hap.csv'], io);
    expect(code).toBe(2);
    expect(io.err).toContain('cannot write a binary table to this output');
  });

  it('fails cleanly (exit 2, one message, no traceback) where gen_esp32part.py crashes', async () => {
    // The last case reads the MD5 record as a partition: its name bytes are 4 x FF + the first 12
    // digest bytes (digest from partitions_hap.json; the repr checked with CPython).
    const cases: [string[], string][] = [
      [['partitions_hap.csv', 'x.bin', '--extra-partition-subtypes', 'data,dup,0x02'], 'Found duplicate value in partition subtype\n'],
      [['partitions_hap.csv', 'x.bin', '--extra-partition-subtypes', 'foo,x,0x02'], 'Error parsing custom subtypes: Invalid partition type\n'],
      [['partitions_hap.csv', 'x.bin', '--extra-partition-subtypes', 'data,x,zz'], "Error parsing custom subtypes: invalid literal for int() with base 16: 'zz'\n"],
      [['partitions_hap.bin', 'x.csv', '--disable-md5sum'], `Parsing binary partition input...\nPartition name b'\\xff\\xff\\xff\\xff\\xdf\\x9aLl\\xc8>\\xcf"K\\xe8N\\xa0' is not valid UTF-8\n`],
    ];
    const dir = await freshDir('crashes');
    for (const [argv, stderr] of cases) {
      const { code, err } = await partitions([argv[0]!, join(dir, argv[1]!), ...argv.slice(2)]);
      expect([argv, code, err]).toEqual([argv, 2, stderr]);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('creates missing output directories', async () => {
    const dir = await freshDir('nested');
    const { code } = await partitions(['partitions_hap.bin', join(dir, 'a/b/hap.csv'), '-q']);
    expect(code).toBe(0);
    expect(await readFile(join(dir, 'a/b/hap.csv'), 'utf8')).toBe(new TextDecoder().decode(fixture('partitions_hap.rev.csv')));
  });
});

describe('the real bin/factory-station', () => {
  const bin = fileURLToPath(new URL('../../bin/factory-station', import.meta.url));
  const run = promisify(execFile);

  it('converts CSV → binary and binary → CSV on stdout', async () => {
    const dir = await freshDir('spawn');
    const toBin = await run(process.execPath, [bin, 'partitions', 'partitions_hap.csv', join(dir, 'hap.bin')], { cwd: FIXTURES });
    expect(toBin.stderr).toBe('Parsing CSV input...\nVerifying table...\n');
    expect((await readFile(join(dir, 'hap.bin'))).equals(Buffer.from(fixture('partitions_hap.bin')))).toBe(true);
    const toCsv = await run(process.execPath, [bin, 'partitions', '-q', join(dir, 'hap.bin')], { cwd: FIXTURES });
    expect(toCsv.stdout).toBe(new TextDecoder().decode(fixture('partitions_hap.rev.csv')));
  });

  it('writes the binary to stdout with "-"', async () => {
    const { stdout } = await run(process.execPath, [bin, 'partitions', 'idf_two_ota.csv', '-', '-q'], { cwd: FIXTURES, encoding: 'buffer' });
    expect(Buffer.from(stdout).equals(Buffer.from(fixture('idf_two_ota.bin')))).toBe(true);
  });

  it('fails with exit 2 and the tool message, writing nothing', async () => {
    const dir = await freshDir('spawn-fail');
    const failed = await run(process.execPath, [bin, 'partitions', 'err_overlap.csv', join(dir, 'x.bin')], { cwd: FIXTURES }).then(
      () => expect.unreachable(),
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toBe('Parsing CSV input...\nCSV Error at line 2: Partitions overlap. Partition sets offset 0xe000. Previous partition ends 0xf000\n');
    expect(await readdir(dir)).toEqual([]);
  });
});
