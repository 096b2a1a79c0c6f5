// The progress bar: drawn on an interactive terminal, cleared before the summary; never written
// into a pipe or a log.
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src-main/cli/io.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { tempDir } from './helpers.ts';

const args = ['batch', '--prefix', 'Fan', '--count', '30', '--cid', '3', '--size', '0x3000', '--outdir', 'out', '--labels', 'none'];

describe('batch progress bar', () => {
  it('on a terminal: a bar reaching 30/30, erased before the summary', async () => {
    const io = memoryIO(tempDir('progress'));
    io.isTTY = true;
    expect(await main(args, io), io.err).toBe(0);
    const bars = io.out.split('\r').filter((s) => s.startsWith('['));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.at(-1)).toMatch(/^\[#{30}\] 30\/30 accessories {2}\d+\/s $/);
    const summary = io.out.indexOf('Version:');
    expect(io.out.lastIndexOf('\r\x1b[2K')).toBe(summary - '\r\x1b[2K'.length);
  });

  it('not on a terminal: no bar, no control characters, only the summary', async () => {
    const io = memoryIO(tempDir('progress'));
    expect(await main(args, io), io.err).toBe(0);
    expect(io.out).not.toMatch(/[\r\x1b]/);
    expect(io.out).toMatch(/^Version: {2}v2 - Multipage Blob Support Enabled\nAccessories generated: 30 \(30 in this run\)/);
  });
});
