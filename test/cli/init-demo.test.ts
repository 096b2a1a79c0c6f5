// `factory-station init` writes a product a newcomer can provision with no edits; `factory-station
// demo` runs the whole flow on virtual boards and ends with exit 0 and a summary.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src-main/cli/factory-station.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { CHIP_IDS } from '../../shared/chips.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'hkfs-init-'));

describe('factory-station init', () => {
  it('writes a starter product that provisions on a virtual C3 with no edits, and never overwrites', async () => {
    const dir = tmp();
    const io = memoryIO(dir);
    expect(await main(['init', 'lamp', '--name', 'Garden Lamp', '--category', 'lighting', '--chip', 'esp32c3'], io), io.err).toBe(0);
    expect(readdirSync(join(dir, 'lamp')).sort()).toEqual(['README.md', 'custom-data.csv', 'partitions.csv', 'profile.json']);
    const profile = JSON.parse(readFileSync(join(dir, 'lamp/profile.json'), 'utf8'));
    expect(profile).toMatchObject({ id: 'garden-lamp', productName: 'Garden Lamp', category: 5, expectedChip: 'esp32c3' });
    const p = memoryIO(dir);
    expect(await main(['provision', '--profile', 'lamp/profile.json', '--port', 'virtual:esp32c3', '--db', 'lamp/station.db', '--init-db', '--label-out', 'lamp/labels'], p), p.err).toBe(0);
    expect(p.out).toMatch(/^provisioned [0-9a-f:]{17} \(esp32c3\) as setup ID [0-9A-Z]{4}/);
    const before = readFileSync(join(dir, 'lamp/profile.json'), 'utf8');
    const again = memoryIO(dir);
    expect(await main(['init', 'lamp'], again)).toBe(1);
    expect(again.err).toMatch(/already exists: choose another folder \(nothing was written\)\n$/);
    expect(readFileSync(join(dir, 'lamp/profile.json'), 'utf8')).toBe(before);
  });

  it('refuses a bad category, chip or stray argument in one line with exit 2', async () => {
    for (const argv of [['init', 'x', '--category', 'toaster'], ['init', 'x', '--chip', 'esp8266'], ['init', 'x', 'y'], ['init', '--nmae', 'X']]) {
      const io = memoryIO(tmp());
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
    }
  });
});

describe('factory-station demo', () => {
  it('runs batch → pool → a board of every chip (a flash fault and a panicking firmware, retried) → labels → history → export, exit 0 with a summary', async () => {
    const dir = tmp();
    const io = memoryIO(dir);
    expect(await main(['demo', 'try', '--fast'], io), io.err).toBe(0);
    expect(io.out).toContain('Summary: 5 of 5 boards provisioned from the pool (5 identities left); 1 flash fault and 1 crashing firmware caught, each retried with the same identity.');
    expect(io.out).toMatch(/slot 2 \(esp32s2\): failed at verify/);
    expect(io.out).toMatch(/slot 4 \(esp32c3\): failed at boot-check: Boot check: the firmware printed "Guru Meditation Error/);
    for (const chip of CHIP_IDS) expect(io.out).toMatch(new RegExp(`slot \\d \\(${chip}\\): done — setup ID [0-9A-Z]{4}, serial LAMP-\\d{4}-0000[1-5],`));
    const labels = readdirSync(join(dir, 'try/labels')).filter((f) => f.endsWith('.pdf'));
    expect(labels).toHaveLength(5);
    for (const l of labels) expect(io.out).toContain(`labels/${l}`);
    expect(statSync(join(dir, 'try/manifest.csv')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'try/manifest.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
    expect(existsSync(join(dir, 'try/station.db'))).toBe(true);
    // the narration never shows a setup code
    const codes = readFileSync(join(dir, 'try/manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[4]!);
    for (const c of codes) expect(io.out).not.toContain(c);
  });
});
