// Issue 13, item 3: everything a profile references is loaded and checked when the profile is
// loaded, so a bad file is reported before any identity is reserved or any file (database, label,
// device) is written; a pool import that fails leaves no database behind either.
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { productDir, station } from './helpers.ts';

const TABLE = (lines: string) => `# Name, Type, SubType, Offset, Size, Flags\nnvs, data, nvs, 0x9000, 0x6000,\nphy_init, data, phy, 0xf000, 0x1000,\nfactory, app, factory, 0x10000, 1M,\n${lines}`;

const CASES: [string, Record<string, unknown>, Record<string, string>, RegExp][] = [
  ['overlapping partitions', {}, { 'partitions_hap.csv': TABLE('factory_nvs, data, nvs, 0x100000, 0x6000,\nextra, data, nvs, 0x104000, 0x4000,\n') }, /firmware\.partitionTable/],
  ['NVS larger than its partition', { nvs: { size: 0x8000 } }, { 'partitions_hap.csv': TABLE('factory_nvs, data, nvs, 0x110000, 0x6000,\n') }, /firmware\.partitionTable|nvs\.size/],
  ['no factory_nvs partition', {}, { 'partitions_hap.csv': TABLE('') }, /factory_nvs/],
  ['bad custom CSV', { customData: { csv: 'app.csv' } }, { 'app.csv': 'key,type,encoding,value\napp,namespace,,\nlevel,data,u8,300\n' }, /customData\.csv: .*app\.csv line 3, key `level`/],
  ['bad flasher_args', { firmware: { partitionTable: 'partitions_hap.csv', flasherArgs: 'flasher_args.json' } }, { 'flasher_args.json': '{ "flash_files": ' }, /firmware\.flasherArgs/],
  ['label.showSerial with no serial source', { label: { size: '40x30', showSerial: true } }, {}, /label\.showSerial/],
  ['flasher_args naming a missing image', { firmware: { partitionTable: 'partitions_hap.csv', flasherArgs: 'flasher_args.json' } }, { 'flasher_args.json': '{"flash_files": {"0x10000": "app.bin"}}' }, /firmware\.flasherArgs: .*app\.bin/],
  ['keys file of the wrong size', { encryption: { keysFile: 'keys.bin' } }, { 'keys.bin': 'k'.repeat(4097) }, /encryption\.keysFile: keys\.bin: .*4097 bytes/],
  ['custom data too large for nvs.size', { nvs: { size: 0x3000 }, customData: { csv: 'big.csv' } }, { 'big.csv': `key,type,encoding,value\napp,namespace,,\n${Array.from({ length: 300 }, (_, i) => `k${i},data,u32,${i}`).join('\n')}\n` }, /nvs\.size: .*does not fit/],
];

describe('item 3: validate before side effects', () => {
  it('item 3: a profile with a bad referenced file fails before any reservation, database, label or flash write', async () => {
    for (const [what, changes, files, message] of CASES) {
      const { dir, profile } = await productDir('item3', changes, files);
      const r = await station(dir, ['provision', '--profile', profile, '--port', 'virtual:esp32', '--virtual-state', 'u.json']);
      expect(r.code, what).toBe(1);
      expect(r.err, what).toMatch(message);
      expect(existsSync(join(dir, 'station.db')), `${what}: database created`).toBe(false);
      expect(existsSync(join(dir, 'labels')), `${what}: labels written`).toBe(false);
      expect(existsSync(join(dir, 'u.json.flash')), `${what}: device written`).toBe(false);
    }
  });

  it('item 3: a failed pool import or a bad profile creates no station.db', async () => {
    const { dir, profile } = await productDir('item3b');
    writeFileSync(join(dir, 'bad.json'), '{"format":"factory-station-identity-pool","version":1,"category":7,"units":[{"setupCode":"1"}]}');
    const bad = await station(dir, ['pool', 'import', '--profile', profile, 'bad.json']);
    expect(bad.code).toBe(1);
    expect(existsSync(join(dir, 'station.db'))).toBe(false);
    const missing = await station(dir, ['pool', 'import', '--profile', profile, 'nothing-here.json']);
    expect(missing.code).toBe(1);
    expect(existsSync(join(dir, 'station.db'))).toBe(false);
  });
});
