// Streamed atomic writes (the batch's master files): all or nothing, never a half-written file.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicFrom, writeFileAtomicSync } from '../../src-main/fs/index.ts';

const root = mkdtempSync(join(tmpdir(), 'hkfs-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeFileAtomicFrom', () => {
  it('writes every piece in order (more than one write), with the given mode', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const piece = (i: number) => `${String(i).padStart(6, '0')} ${'é'.repeat(500)}\n`; // 2 MB+ in all, multi-byte
    const pieces = Array.from({ length: 2500 }, (_, i) => piece(i));
    await writeFileAtomicFrom(join(dir, 'values.csv'), pieces, 0o600);
    expect(readFileSync(join(dir, 'values.csv'), 'utf8')).toBe(pieces.join(''));
    expect(statSync(join(dir, 'values.csv')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['values.csv']);
  });

  it('a failure while producing the text leaves the old file as it was and no temp file', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    writeFileSync(join(dir, 'manifest.json'), 'previous');
    const failing = function* () {
      yield 'x'.repeat(3 << 20); // already written to the temp file
      throw new Error('row 7: broken');
    };
    await expect(writeFileAtomicFrom(join(dir, 'manifest.json'), failing())).rejects.toThrow('row 7: broken');
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('a failure on a fresh name leaves nothing', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const failing = function* () {
      yield 'partial';
      throw new Error('stop');
    };
    await expect(writeFileAtomicFrom(join(dir, 'new.csv'), failing())).rejects.toThrow('stop');
    expect(existsSync(join(dir, 'new.csv'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  // Node's own message for a failed write names no file; the operator must learn which one.
  it('a file-system failure names the file it was for, in plain words, and leaves no temp file', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const target = join(dir, 'bin', 'Fan-111-22-333.bin');
    mkdirSync(join(target, 'sub'), { recursive: true }); // a folder where the file should go
    const expected = new RegExp(`^${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (is a directory|ENOTEMPTY)$`);
    expect(() => writeFileAtomicSync(target, new Uint8Array(4))).toThrow(expected);
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow(expected);
    await expect(writeFileAtomicFrom(target, ['x'])).rejects.toThrow(expected);
    expect(readdirSync(join(dir, 'bin'))).toEqual(['Fan-111-22-333.bin']);
  });
});
