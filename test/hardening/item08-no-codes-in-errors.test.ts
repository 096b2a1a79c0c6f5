// Issue 13, item 8: setup codes never reach error output (accessories are named by position and
// setup ID, never by a path that holds the code); names that cannot be files are refused before
// the journal exists; file ids differing only in case are refused.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryIO } from '../../src-main/cli/io.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { SETUP_CODE_TEXT, station, tempDir } from './helpers.ts';

describe('item 8: no setup code in error output', () => {
  it('item 8: a write failure mid-batch names the accessory by position and setup ID, not by its file name', async () => {
    const dir = tempDir('item8');
    const io = memoryIO(dir);
    const running = main(['batch', '--count', '3000', '--prefix', 'Z', '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--labels', 'none', '--jobs', '1'], io);
    // As soon as the first accessories exist, take the bin/ folder away under the run.
    for (let i = 0; i < 2000; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const bin = join(dir, 'o', 'bin');
      if (existsSync(bin) && readdirSync(bin).length > 0) {
        rmSync(bin, { recursive: true, force: true });
        break;
      }
    }
    const code = await running;
    expect(code).toBe(1);
    expect(io.err).toMatch(/batch stopped: accessory \d+ \(setup ID [0-9A-Z]{4}\): cannot write its bin file: no such file or directory/);
    expect(io.err).not.toMatch(SETUP_CODE_TEXT);
    expect(io.err).not.toMatch(/\d{8}/);
  });

  it('item 8: an over-long --prefix or --fileid value is refused before the journal exists', async () => {
    const dir = tempDir('item8b');
    const long = await station(dir, ['batch', '--count', '2', '--prefix', 'P'.repeat(300), '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--labels', 'none']);
    expect(long.code).toBe(1);
    expect(long.err).toMatch(/--prefix .*too long/);
    expect(long.err).not.toMatch(/ENAMETOOLONG/);
    expect(existsSync(join(dir, 'o'))).toBe(false);

    writeFileSync(join(dir, 'conf.csv'), 'app,namespace,\nserial,data,string\n');
    writeFileSync(join(dir, 'values.csv'), `serial\n${'S'.repeat(250)}\n`);
    const longId = await station(dir, ['batch', '--conf', 'conf.csv', '--values', 'values.csv', '--fileid', 'serial', '--prefix', 'P', '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--labels', 'none']);
    expect(longId.code).toBe(1);
    expect(longId.err).toMatch(/values\.csv, line 2, column `serial`: .*too long/);
    expect(existsSync(join(dir, 'o'))).toBe(false);
  });

  it('item 8: --fileid values that differ only in case are refused', async () => {
    const dir = tempDir('item8c');
    writeFileSync(join(dir, 'conf.csv'), 'app,namespace,\nserial,data,string\n');
    writeFileSync(join(dir, 'values.csv'), 'serial\nabc1\nABC1\n');
    const r = await station(dir, ['batch', '--conf', 'conf.csv', '--values', 'values.csv', '--fileid', 'serial', '--prefix', 'P', '--cid', '3', '--size', '0x3000', '--outdir', 'o', '--labels', 'none']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/values\.csv, line 3, column `serial`: .*case/);
  });
});
