// Issue 13, item 7: temp files a killed run left behind (they can hold setup codes) are removed by
// `batch --resume` and by the station's start-up.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { demoStation } from '../station/helpers.ts';
import { deadPid, station, tempDir } from './helpers.ts';

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

describe('item 7: stale temp files', () => {
  it('item 7: batch --resume removes the temp files of a killed run (masters, accessory files)', async () => {
    const dir = tempDir('item7');
    const r = await station(dir, ['batch', '--count', '3', '--prefix', 'Fan', '--cid', '3', '--size', '0x3000', '--outdir', 'out', '--labels', 'single']);
    expect(r.code, r.err).toBe(0);
    const out = join(dir, 'out');
    // Make it an unfinished run (as after a kill before the masters were renamed into place)…
    const journal = readdirSync(out).find((f) => f.endsWith('.journal'))!;
    const lines = readFileSync(join(out, journal), 'utf8').split('\n').filter((l) => l && !l.includes('"type":"complete"'));
    writeFileSync(join(out, journal), `${lines.join('\n')}\n`);
    const values = readdirSync(out).find((f) => f.startsWith('homekit_values_'))!;
    rmSync(join(out, values));
    // …with the temp files such a kill leaves, under this and the older naming schemes.
    const pid = deadPid();
    const temps = [
      `.${values}.${pid}.0123456789abcdef.tmp`,
      `.${values}.a1b2c3d4e5f6.tmp`,
      `bin/.Fan-111-22-333.bin.${pid}.fedcba9876543210.tmp`,
      `homekit_setup_info/.Fan-111-22-333.txt.${pid}-0-17.tmp`,
      `labels/.Fan-111-22-333.pdf.${pid}.00112233445566aa.tmp`,
    ];
    for (const t of temps) writeFileSync(join(out, t), 'Setup Code: 111-22-333\n');
    const resumed = await station(dir, ['batch', '--resume', '--outdir', 'out']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(allFiles(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(out, values))).toBe(true);
  });

  it('item 7: the station removes label temp files of a dead process at start-up, and leaves a live writer alone', async () => {
    const dir = tempDir('item7b');
    const labels = join(dir, 'labels');
    mkdirSync(labels, { recursive: true });
    const pid = deadPid();
    const stale = [`.demo-smart-plug-K05T-240ac4000001.svg.${pid}.0123456789abcdef.tmp`, '.demo-smart-plug-K05T-240ac4000001.pdf.a1b2c3d4e5f6.tmp'];
    const live = `.demo-smart-plug-K05T-240ac4000002.svg.${process.pid}.0123456789abcdef.tmp`;
    for (const t of [...stale, live]) writeFileSync(join(labels, t), 'Setup Code: 111-22-333\n');
    // the old-style name carries no process id: it goes once it is old
    const { utimesSync } = await import('node:fs');
    utimesSync(join(labels, stale[1]!), new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
    const { db } = await demoStation({ labelDir: labels });
    await db.close();
    expect(readdirSync(labels)).toEqual([live]);
  });
});
