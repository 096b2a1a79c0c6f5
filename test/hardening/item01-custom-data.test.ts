// Issue 13, item 1: a product's custom NVS data can never override (or move) the HomeKit identity.
// Rows that collide with the identity keys, or any key written twice in one namespace, are refused
// everywhere custom data enters — profile load, provision, factory-nvs-gen, batch --conf — naming
// file, line and key, before anything is reserved or written.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfile } from '../../src-main/station/profile-file.ts';
import { factoryNvsGen, productDir, station, tempDir } from './helpers.ts';
import { writeFileSync } from 'node:fs';

const OVERRIDE = 'key,type,encoding,value\nhap_setup,namespace,,\nsetup_id,data,binary,AAAA\n';

describe('item 1: custom data cannot override the identity', () => {
  it('item 1: a custom CSV writing hap_setup/setup_id is refused at profile load, by provision and by factory-nvs-gen', async () => {
    const { dir, profile } = await productDir('item1', { customData: { csv: 'app.csv' } }, { 'app.csv': OVERRIDE });
    await expect(loadProfile(profile)).rejects.toThrow(/app\.csv line 3, key `setup_id`/);

    const p = await station(dir, ['provision', '--profile', profile, '--port', 'virtual:esp32', '--virtual-state', 'u.json']);
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/app\.csv line 3, key `setup_id`: .*identity/);
    expect(existsSync(join(dir, 'station.db'))).toBe(false);
    expect(existsSync(join(dir, 'u.json.flash'))).toBe(false);

    const g = await factoryNvsGen(dir, ['11122333', 'ES32', 'acc', '--infile', 'app.csv']);
    expect(g.code).not.toBe(0);
    expect(g.err + g.out).toMatch(/app\.csv line 3, key `setup_id`/);
    expect(existsSync(join(dir, 'acc.bin'))).toBe(false);
  });

  it('item 1: a key written twice in one namespace, or hap_setup declared before another namespace, is refused', async () => {
    const dir = tempDir('item1b');
    writeFileSync(join(dir, 'twice.csv'), 'key,type,encoding,value\napp,namespace,,\nk,data,u8,1\nk,data,u8,2\n');
    const twice = await factoryNvsGen(dir, ['11122333', 'ES32', 'acc', '--infile', 'twice.csv']);
    expect(twice.code).not.toBe(0);
    expect(twice.err + twice.out).toMatch(/twice\.csv line 4, key `k`: .*(twice|already)/);
    // hap_setup first, then another namespace: the setup keys would land in `app`, not hap_setup
    writeFileSync(join(dir, 'moved.csv'), 'key,type,encoding,value\nhap_setup,namespace,,\napp,namespace,,\nk,data,u8,1\n');
    const moved = await factoryNvsGen(dir, ['11122333', 'ES32', 'acc', '--infile', 'moved.csv']);
    expect(moved.code).not.toBe(0);
    expect(moved.err + moved.out).toMatch(/moved\.csv line 3, key `app`/);
    expect(existsSync(join(dir, 'acc.bin'))).toBe(false);
  });

  it('item 1: batch --conf declaring a namespace twice (hap_setup included) is refused before the run', async () => {
    const dir = tempDir('item1c');
    writeFileSync(join(dir, 'conf.csv'), 'app,namespace,\nserial,data,string\nhap_setup,namespace,\nhap_setup,namespace,\n');
    writeFileSync(join(dir, 'values.csv'), 'serial\nS1\nS2\n');
    const r = await station(dir, ['batch', '--conf', 'conf.csv', '--values', 'values.csv', '--prefix', 'L', '--cid', '5', '--size', '0x6000', '--outdir', 'out', '--labels', 'none']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/conf\.csv, line 4, column `hap_setup`: .*(twice|again)/);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
