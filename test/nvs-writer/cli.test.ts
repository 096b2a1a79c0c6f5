// `factory-station nvs generate …` replaying the vectors' recorded nvs_partition_gen.py command lines
// in-process (cwd = fixture folder, --outdir = a temp dir), plus argument handling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { ARGUMENT_ERRORS, CONTENT_ERRORS, FIXTURES, HOMEKIT_BUG_REJECTIONS, STRICT_REFUSALS, fixture, generateRuns, runId, sha256 } from './vectors.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'nvs-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function freshDir(name: string): Promise<string> {
  const dir = join(tmp, name.replace(/[^\w.-]/g, '_'));
  await mkdir(dir, { recursive: true });
  return dir;
}

async function nvs(argv: string[], cwd = FIXTURES) {
  const io = memoryIO(cwd, { HOME: tmp });
  const code = await main(['nvs', ...argv], io);
  return { code, out: io.out, err: io.err };
}

const runs = generateRuns();

describe('replaying the recorded generate command lines', () => {
  // The HomeKit copy sized UTF-8 strings in characters; we don't (tested in writer.test.ts).
  const accepted = runs.filter((r) => r.run.ok && !['strings/v1.homekit', 'strings/v2.homekit'].includes(runId(r)) && !Object.hasOwn(STRICT_REFUSALS, runId(r)));
  it('replays all 54 accepted runs but the 4 we refuse on purpose', () => expect(accepted.length).toBe(50));
  const strict = runs.filter((r) => Object.hasOwn(STRICT_REFUSALS, runId(r)));
  it.each(strict.map((r) => [runId(r), r] as const))('%s: accepted by the reference, refused on purpose, nothing written', async (id, r) => {
    const dir = await freshDir(id);
    const { code, err } = await nvs([...r.argv, '--outdir', dir]);
    expect(code).toBe(254);
    expect(err).toMatch(STRICT_REFUSALS[id]!);
    expect(err).toContain(r.csv);
    expect(await readdir(dir)).toEqual([]);
  });
  it.each(accepted.map((r) => [runId(r), r] as const))('%s', async (id, r) => {
    const dir = await freshDir(id);
    const { code, out, err } = await nvs([...r.argv, '--outdir', dir]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const expected = r.run.outputs![0]!;
    const written = new Uint8Array(await readFile(join(dir, r.output)));
    if (expected.stored === false) expect(sha256(written)).toBe(expected.sha256);
    else expect(Buffer.from(written).equals(Buffer.from(fixture(expected.file)))).toBe(true);
    expect(out).toContain(`Created NVS binary: ===> ${join(dir, r.output)}`);
    expect(await readdir(dir)).toEqual([r.output]); // no temp files left
  });

  const rejected = runs.filter((r) => !r.run.ok && !HOMEKIT_BUG_REJECTIONS.has(runId(r)));
  it('covers every rejected upstream run', () => {
    expect(rejected.map(runId).sort()).toEqual([...Object.keys(CONTENT_ERRORS), ...Object.keys(ARGUMENT_ERRORS)].sort());
  });
  it.each(rejected.map((r) => [runId(r), r] as const))('%s is rejected, nothing written', async (id, r) => {
    const dir = await freshDir(id);
    const { code, err } = await nvs([...r.argv, '--outdir', dir]);
    expect(code).not.toBe(0);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
    const where = CONTENT_ERRORS[id];
    if (where) {
      expect(code).toBe(254);
      expect(err).toContain(`${r.csv} line ${where.line}`);
      if (where.key !== undefined) expect(err).toContain(`key \`${where.key}\``);
    } else {
      expect(code).toBe(1);
      expect(err).toContain(ARGUMENT_ERRORS[id]);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('nvs generate arguments', () => {
  it('several CSV inputs share namespace state (upstream >= 0.1.5)', async () => {
    const dir = await freshDir('multi');
    await writeFile(join(dir, 'a.csv'), 'key,type,encoding,value\ncfg,namespace,,\nid,data,u32,42\n');
    await writeFile(join(dir, 'b.csv'), 'key,type,encoding,value\nname,data,string,device-01\n');
    const { code } = await nvs(['generate', 'a.csv', 'b.csv', 'out.bin', '0x3000'], dir);
    expect(code).toBe(0);
    // Same content as the `sizes` CSV in one file.
    expect(Buffer.from(await readFile(join(dir, 'out.bin'))).equals(Buffer.from(fixture('sizes.0x3000.v2.bin')))).toBe(true);
  });

  it('accepts --opt=value, option abbreviations and options before positionals; --version defaults to 2', async () => {
    const dir = await freshDir('abbrev');
    expect((await nvs(['generate', `--outd=${dir}`, '--ver', '1', 'sizes.csv', 'x.bin', '0x6000'])).code).toBe(0);
    expect(Buffer.from(await readFile(join(dir, 'x.bin'))).equals(Buffer.from(fixture('sizes.0x6000.v1.bin')))).toBe(true);
    expect((await nvs(['generate', 'sizes.csv', 'y.bin', '12288', '--outdir', dir])).code).toBe(0);
    expect(Buffer.from(await readFile(join(dir, 'y.bin'))).equals(Buffer.from(fixture('sizes.0x3000.v2.bin')))).toBe(true);
  });

  it('puts relative output paths under --outdir (creating folders) and resolves --outdir against the cwd', async () => {
    const dir = await freshDir('nested');
    const { code, out } = await nvs(['generate', join(FIXTURES, 'sizes.csv'), 'sub/dir/x.bin', '0x3000', '--outdir', 'o'], dir);
    expect(code).toBe(0);
    expect(out).toContain(`===> ${join(dir, 'o', 'sub', 'dir', 'x.bin')}`);
    expect((await readFile(join(dir, 'o/sub/dir/x.bin'))).length).toBe(0x3000);
  });

  it('an absolute output ignores --outdir with the reference warning', async () => {
    const dir = await freshDir('abs');
    const { code, out } = await nvs(['generate', 'sizes.csv', join(dir, 'a.bin'), '0x3000', '--outdir', join(dir, 'ignored')]);
    expect(code).toBe(0);
    expect(out).toContain('absolute path given so outdir is ignored for this file');
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it('refuses an --outdir that is a file', async () => {
    const dir = await freshDir('outdir-file');
    await writeFile(join(dir, 'f'), '');
    const { code, err } = await nvs(['generate', 'sizes.csv', 'a.bin', '0x3000', '--outdir', join(dir, 'f')]);
    expect(code).toBe(1);
    expect(err).toContain("path already exists and it's not a directory");
  });

  it('prints the read-only notice for 0x1000/0x2000', async () => {
    const dir = await freshDir('ro');
    const { code, out } = await nvs(['generate', 'sizes.csv', 'a.bin', '0x2000', '--outdir', dir]);
    expect(code).toBe(0);
    expect(out).toContain('must be flagged as "readonly"');
    expect((await readFile(join(dir, 'a.bin'))).length).toBe(4096);
  });

  it.each([
    [['generate', 'sizes.csv', 'a.bin'], /required: size/],
    [['generate', 'sizes.csv', 'a.bin', '0x3000', '--version', '3'], /invalid choice: '3'/],
    [['generate', 'sizes.csv', 'a.bin', '0x3000', '--bogus'], /unrecognized arguments: --bogus/],
    [['generate', 'sizes.csv', 'a.bin', '0x3000', '--outdir'], /expected one argument/],
    [['generate', 'sizes.csv', 'a.bin', '-0x3000'], /unrecognized arguments: -0x3000/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('usage error for %j', async (argv, message) => {
    const { code, err } = await nvs(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('a missing CSV file is one clean line', async () => {
    const { code, err } = await nvs(['generate', 'nope.csv', 'a.bin', '0x3000', '--outdir', await freshDir('nocsv')]);
    expect(code).toBe(1);
    expect(err).toMatch(/nope\.csv: no such file or directory/);
  });

  it('answers --help for nvs and generate', async () => {
    const top = await nvs(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/generate-key/);
    const gen = await nvs(['generate', '--help']);
    expect(gen.code).toBe(0);
    expect(gen.out).toMatch(/--outdir OUTDIR/);
  });
});

describe('the real bin', () => {
  it('node bin/factory-station nvs generate reproduces a vector', async () => {
    const dir = await freshDir('bin');
    const bin = fileURLToPath(new URL('../../bin/factory-station', import.meta.url));
    await promisify(execFile)(process.execPath, [bin, 'nvs', 'generate', 'hap_factory.csv', 'hap.bin', '0x6000', '--outdir', dir], { cwd: FIXTURES });
    expect(Buffer.from(await readFile(join(dir, 'hap.bin'))).equals(Buffer.from(fixture('hap_factory.v2.bin')))).toBe(true);
  });
});
