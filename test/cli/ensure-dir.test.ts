// Output folders: created like `mkdir -p`, and a path where that is impossible fails at once —
// Node's own recursive mkdir never returns for a path under /proc (it loops on ENOENT).
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDirSync } from '../../src-main/fs/index.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';

const root = mkdtempSync(join(tmpdir(), 'ensure-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hasProc = existsSync('/proc/self');

describe('ensureDirSync', () => {
  it('creates every missing folder, with the mode asked for, and accepts existing ones', () => {
    const deep = join(root, 'a', 'b', 'c');
    ensureDirSync(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    if (process.platform !== 'win32') expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700 & ~process.umask());
    expect(() => ensureDirSync(deep)).not.toThrow();
    expect(() => ensureDirSync(root)).not.toThrow();
  });

  it('fails with ENOTDIR naming the file in the way', () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => ensureDirSync(join(file, 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR', path: join(file, 'sub') }));
    expect(() => ensureDirSync(file)).toThrow(expect.objectContaining({ code: 'ENOTDIR', path: file }));
  });

  it.runIf(hasProc)('fails (instead of looping forever) where mkdir cannot create anything: /proc', () => {
    expect(() => ensureDirSync('/proc/no-such-thing/sub')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

describe.runIf(hasProc)('CLIs with an output folder under /proc', () => {
  it('batch --outdir: exit 1 and one line naming the folder', async () => {
    const io = memoryIO(root);
    const code = await main(['batch', '--prefix', 'Fan', '--count', '2', '--cid', '3', '--size', '0x3000', '--outdir', '/proc/no-such-outdir'], io);
    expect(code).toBe(1);
    expect(io.err).toMatch(/^error: \/proc\/no-such-outdir: /);
    expect(io.err.trim().split('\n')).toHaveLength(1);
  });

  it('payload --qr into a folder under /proc: exit 1, no hang', async () => {
    const io = memoryIO(root);
    const code = await main(['payload', '--category', '5', '--code', '11122333', '--id', 'ES32', '--qr', '/proc/no-such-dir/qr.svg'], io);
    expect(code).toBe(1);
    expect(io.err).toMatch(/\/proc\/no-such-dir/);
  });
});
