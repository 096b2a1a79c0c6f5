// Issue 13, item 6: a symlink planted in a shared output folder (at a temp name or at the final
// name) never receives a file and never becomes the file; secret files get their mode exactly.
import { describe, expect, it } from 'vitest';
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { productDir, tempDir } from './helpers.ts';
import { station } from './helpers.ts';

describe('item 6: symlinks in output folders', () => {
  it('item 6: provision --virtual-state does not write through a planted <state>.tmp or <state>.flash.tmp symlink', async () => {
    const { dir, profile } = await productDir('item6');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'untouched');
    writeFileSync(join(dir, 'u.json'), JSON.stringify({ chip: 'esp32', mac: '24:0a:c4:00:66:01' }));
    symlinkSync(victim, join(dir, 'u.json.tmp'));
    symlinkSync(victim, join(dir, 'u.json.flash.tmp'));
    const r = await station(dir, ['provision', '--profile', profile, '--port', 'virtual:esp32', '--virtual-state', 'u.json']);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(dir, 'u.json')).isFile()).toBe(true);
    expect(lstatSync(join(dir, 'u.json.flash')).isFile()).toBe(true);
  });

  it('item 6: a symlink at the final name is replaced, not followed; the mode is set exactly; no temp file stays', async () => {
    const { writeFileAtomic, writeFileAtomicSync } = await import('../../src-main/fs/index.ts');
    const dir = tempDir('item6b');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(dir, 'labels.pdf'));
    const old = process.umask(0);
    try {
      await writeFileAtomic(join(dir, 'labels.pdf'), 'Setup Code: 111-22-333', 0o600);
      writeFileAtomicSync(join(dir, 'open.txt'), 'x', 0o644);
    } finally {
      process.umask(old);
    }
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(lstatSync(join(dir, 'labels.pdf')).isFile()).toBe(true);
    expect(statSync(join(dir, 'labels.pdf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'open.txt')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(['labels.pdf', 'open.txt', 'victim.txt']);
    // replace: false never overwrites (keys): not even through a link
    await expect(writeFileAtomic(victim, 'new', { replace: false })).rejects.toThrow(/already exists/);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });
});
