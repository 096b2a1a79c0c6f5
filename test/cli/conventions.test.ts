// One command-line style across every factory-station verb (issue 14): --help lists the options,
// an example and the exit codes; an unknown option is one line on stderr with a --help hint and
// exit 2; --version prints the package's version. The top-level help names every verb and
// factory-nvs-gen.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, main } from '../../src-main/cli/factory-station.ts';
import { main as nvsGen } from '../../src-main/cli/factory-nvs-gen.ts';
import { memoryIO } from '../../src-main/cli/io.ts';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const VERBS = Object.keys(COMMANDS);
/** nvs has sub-commands, each with its own options. */
const INVOCATIONS = [
  ...VERBS.filter((v) => v !== 'nvs').map((v) => [v]),
  ['nvs'], ...['generate', 'generate-key', 'encrypt', 'decrypt', 'inspect'].map((s) => ['nvs', s]),
  ['db', 'migrate'], ['db', 'copy'],
];
/** Drop-ins whose reference tool uses --version for the NVS format version. */
const OWN_VERSION = new Set(['batch', 'nvs generate', 'nvs encrypt']);

async function run(argv: string[]) {
  const io = memoryIO(mkdtempSync(join(tmpdir(), 'hkfs-conv-')));
  const code = await main(argv, io);
  return { code, out: io.out, err: io.err };
}

describe('factory-station command-line conventions', () => {
  it('the top level: --version, and a help that lists every verb and factory-nvs-gen', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const v of VERBS) expect(help.out).toMatch(new RegExp(`^  ${v} `, 'm'));
    expect(help.out).toContain('factory-nvs-gen');
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe("factory-station: unknown command 'frobnicate' (see factory-station --help)\n");
  });

  it.each(INVOCATIONS.map((a) => [a.join(' '), a] as const))('%s --help: options, an example and the exit codes', async (_, argv) => {
    const r = await run([...argv, '--help']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^usage: factory-station /);
    expect(r.out).toMatch(/\n(options|optional arguments|commands)[^\n]*:\n/);
    expect(r.out).toMatch(/\nexamples?:\n {2}factory-station /);
    expect(r.out).toMatch(/\nexit (status|codes):\n\s+0 /);
  });

  it.each(INVOCATIONS.map((a) => [a.join(' '), a] as const))('%s --no-such-option: one line on stderr, a --help hint, exit 2', async (name, argv) => {
    const r = await run([...argv, '--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toHaveLength(2); // one line and its newline
    expect(r.err).toContain('--no-such-option');
    expect(r.err).toContain(`see factory-station ${name} --help`);
  });

  it.each(INVOCATIONS.filter((a) => !OWN_VERSION.has(a.join(' '))).map((a) => [a.join(' '), a] as const))('%s --version prints the version', async (_, argv) => {
    expect(await run([...argv, '--version'])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });

  it('a stray argument is refused, not ignored', async () => {
    for (const argv of [['history', 'extra'], ['export', 'a.csv', 'b.csv'], ['provision', '--profile', 'p.json', '--port', 'virtual:esp32', 'stray'], ['ports', 'x']]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(/unexpected argument|unrecognized arguments/);
    }
  });

  it('factory-nvs-gen --help names itself and ends with examples and exit codes', async () => {
    const io = memoryIO(mkdtempSync(join(tmpdir(), 'hkfs-conv-')));
    expect(await nvsGen(['--help'], io)).toBe(0);
    expect(io.out).toMatch(/^usage: factory-nvs-gen /);
    expect(io.out).toMatch(/\nexit status:\n/);
  });
});
