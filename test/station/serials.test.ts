// Serial numbers piece by piece: the scheme and its errors, how a number is written, issuing in the
// reservation's transaction (a rollback leaves no gap), MAC-derived numbers, batch blocks, the
// one way a number goes unused (an import that skips an entry — audited), and where the number
// lands in the factory NVS (custom data may not take its key).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatSerial, validateSerialScheme, widestSerial, SerialExhaustedError, type SerialScheme } from '../../shared/station/serial.ts';
import { ProfileError, validateProfile } from '../../shared/station/profile.ts';
import { buildFactoryCsv, checkFactoryCustomData } from '../../shared/homekit/factory-csv.ts';
import { parseNvsCsv } from '../../shared/nvs/writer.ts';
import { NvsInputError } from '../../shared/nvs/errors.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { HOMEKIT_PARTITION_CSV, loadProfile } from '../../src-main/station/profile-file.ts';

const fail = (path: string, detail: string): never => {
  throw new ProfileError(path, detail);
};
const scheme = (v: Record<string, unknown>): SerialScheme => validateSerialScheme({ nvs: { namespace: 'device', key: 'sn' }, ...v }, fail);
const base = { schema: 1, id: 'x', productName: 'X', category: 7, nvs: { size: '0x6000' }, firmware: { partitionTable: 'p.csv' }, label: { size: '40x30' } };
const SERIAL = { format: 'X-{counter}', nvs: { namespace: 'device', key: 'sn' } };

describe('the scheme', () => {
  it('writes numbers from the counter, the MAC and the date parts (ISO week, local date)', () => {
    const date = new Date(2025, 0, 1, 12); // Wednesday 1 January 2025: ISO week 1
    expect(formatSerial(scheme({ format: 'FAN-{yyyy}{mm}{dd}-{counter}', digits: 5 }), { counter: 42, date, station: 's' })).toBe('FAN-20250101-00042');
    expect(formatSerial(scheme({ format: '{yy}W{ww}/{line}/{station}-{counter}', line: 'L2', digits: 3 }), { counter: 7, date: new Date(2024, 11, 30), station: 'bench-01.local' })).toBe('24W01/L2/BENCH01L-007');
    expect(formatSerial(scheme({ format: 'SN{mac}' }), { mac: '24:0a:c4:12:34:56', date, station: 's' })).toBe('SN240AC4123456');
    expect(() => formatSerial(scheme({ format: 'X{counter}', digits: 2 }), { counter: 100, date, station: 's' })).toThrow(SerialExhaustedError);
    expect(widestSerial(scheme({ format: 'F-{yy}-{counter}', digits: 4 }))).toBe('F-88-8888');
  });

  it.each([
    [{ format: 'X' }, /serial\.format: needs exactly one of \{counter\}/],
    [{ format: '{counter}{mac}' }, /serial\.format: needs exactly one of/],
    [{ format: 'X-{count}' }, /serial\.format: unknown part \{count\}/],
    [{ format: 'X,{counter}' }, /serial\.format: "X,": only letters, digits/],
    [{ format: '{line}{counter}' }, /serial\.line: is needed/],
    [{ format: `${'X'.repeat(55)}{counter}`, digits: 12 }, /serial\.format: makes serial numbers of up to 67 characters; HomeKit allows 64/],
    [{ format: 'X{counter}', digits: 13 }, /serial\.digits: must be a whole number from 1 to 12/],
    [{ format: 'X{counter}', nvs: { namespace: 'hap_setup', key: 'setup_id' } }, /serial\.nvs\.key: hap_setup\/setup_id is the unit's HomeKit identity/],
    [{ format: 'X{counter}', nvs: { namespace: 'device', key: 'a_key_longer_than_15' } }, /serial\.nvs\.key: must be 1 to 15/],
    [{ format: 'X{counter}', prefix: 'X' }, /serial\.prefix: unknown field/],
  ])('refuses %j naming the field', (serial, message) => {
    expect(() => validateProfile({ ...base, serial: { nvs: { namespace: 'device', key: 'sn' }, ...serial } })).toThrow(message);
  });

  it('a serial line on the label needs a scheme, and must fit the widest number the scheme makes', () => {
    expect(() => validateProfile({ ...base, label: { size: '40x30', showSerial: true } })).toThrow(/label\.showSerial: needs serial numbers/);
    expect(validateProfile({ ...base, serial: SERIAL, label: { size: '40x30', showSerial: true } }).label.showSerial).toBe(true);
    expect(() => validateProfile({ ...base, serial: { ...SERIAL, format: 'LONG-SERIAL-NUMBER-{station}-{counter}', digits: 10 }, label: { size: '25x25', showSerial: true } })).toThrow(/^profile: label: /);
  });
});

describe('issuing', () => {
  const db = async () => {
    const d = openRegistry(':memory:');
    await d.upsertProduct({ id: 'p', productName: 'P', category: 7 });
    return d;
  };
  const fresh = (d: { setupCode: string; setupId: string }) => ({ ...d, salt: randomBytes(16), verifier: randomBytes(384), payload: `X-HM://${d.setupId}` });
  const reserve = (store: Registry, mac: string, s: SerialScheme, make = fresh) =>
    store.reserveIdentity({ product: 'p', mac, chip: 'esp32', station: 'st', operator: 'op', usePool: false, poolPayload: () => '', fresh: make, serial: { scheme: s } });

  it('in the reservation: one number per unit, kept on a re-plug; a failed reservation takes its number back (no gap)', async () => {
    const store = await db();
    const s = scheme({ format: 'P{counter}', digits: 4, start: 5 });
    expect((await reserve(store, '24:0a:c4:00:00:01', s)).unit.serial).toBe('P0005');
    expect(await reserve(store, '24:0a:c4:00:00:01', s)).toMatchObject({ existing: true, unit: { serial: 'P0005' } });
    await expect(reserve(store, '24:0a:c4:00:00:02', s, () => { throw new Error('SRP failed'); })).rejects.toThrow('SRP failed');
    expect((await reserve(store, '24:0a:c4:00:00:03', s)).unit.serial).toBe('P0006');
    expect(await store.listUnits({ serial: 'P0006' })).toHaveLength(1);
  });

  it('a unit recorded before the product had serial numbers gets one when it is re-flashed', async () => {
    const store = await db();
    await store.reserveIdentity({ product: 'p', mac: '24:0a:c4:00:00:09', chip: 'esp32', station: 'st', operator: 'op', usePool: false, poolPayload: () => '', fresh });
    expect((await store.findByMac('p', '24:0a:c4:00:00:09'))!.serial).toBeNull();
    expect((await reserve(store, '24:0a:c4:00:00:09', scheme({ format: 'P{counter}' }))).unit.serial).toBe('P000001');
  });

  it('derived from the MAC: no counter, still unique', async () => {
    const store = await db();
    const s = scheme({ format: 'M-{mac}' });
    expect((await reserve(store, '24:0a:c4:ab:cd:ef', s)).unit.serial).toBe('M-240AC4ABCDEF');
  });

  it('a batch run takes one block; asked again (a resumed run) it gets the same numbers; the station continues after it', async () => {
    const store = await db();
    const s = scheme({ format: 'B{counter}', digits: 3 });
    const request = { runId: 'run-1', count: 3, station: 'batchhost', date: new Date() };
    expect((await store.reserveSerialBlock('p', s, request)).serials).toEqual(['B001', 'B002', 'B003']);
    expect((await store.reserveSerialBlock('p', s, request)).serials).toEqual(['B001', 'B002', 'B003']);
    expect((await reserve(store, '24:0a:c4:00:00:01', s)).unit.serial).toBe('B004');
    await expect(store.reserveSerialBlock('p', scheme({ format: 'M{mac}' }), { ...request, runId: 'run-2' })).rejects.toThrow(/a batch does not know/);
  });

  it('the one way a number goes unused: an imported entry is skipped (its number stays issued, the audit says which)', async () => {
    const store = await db();
    const s = scheme({ format: 'B{counter}', digits: 3 });
    await store.reserveSerialBlock('p', s, { runId: 'run-1', count: 2, station: 'h', date: new Date() });
    const entry = (code: string, id: string, serial: string) => ({ setupCode: code, setupId: id, salt: randomBytes(16), verifier: randomBytes(384), serial });
    // the second entry claims a number of another batch run: not its own
    await store.reserveSerialBlock('p', s, { runId: 'run-2', count: 1, station: 'h', date: new Date() });
    const result = await store.importPool('p', [entry('10293847', 'AB12', 'B001'), entry('10293848', 'AB13', 'B003')], 'run-1');
    expect(result).toEqual({ added: 1, skipped: [{ index: 1, conflict: 'serial' }] });
    const audit = (await store.auditRows()).find((r) => r.event === 'pool-import')!;
    expect(JSON.parse(audit.detail!)).toMatchObject({ count: 1, skipped: 1, serialsNotImported: ['B003'] });
    expect((await reserve(store, '24:0a:c4:00:00:01', s)).unit.serial).toBe('B004');
  });
});

describe('in the factory NVS', () => {
  const identity = { setupId: 'ES32', salt: new Uint8Array(16), verifier: new Uint8Array(384) };
  const rows = (csv: string) => parseNvsCsv(csv).map((r) => `${r.type === 'namespace' ? '#' : ''}${r.key}${r.type === 'namespace' ? '' : `=${r.value}`}`);

  it('goes into its namespace block of the custom data, else a namespace of its own before hap_setup', () => {
    const custom = 'key,type,encoding,value\ndevice,namespace,,\nmodel,data,string,M1\nother,namespace,,\nx,data,u8,1\n';
    expect(rows(buildFactoryCsv({ ...identity, customCsv: custom, serial: { namespace: 'device', key: 'sn', value: 'F-1' } }))).toEqual(
      ['#device', 'sn=F-1', 'model=M1', '#other', 'x=1', '#hap_setup', 'setup_id=ES32', expect.stringMatching(/^setup_salt=/), expect.stringMatching(/^setup_verifier=/)]);
    expect(rows(buildFactoryCsv({ ...identity, serial: { namespace: 'info', key: 'sn', value: 'F-2' } })).slice(0, 3)).toEqual(['#info', 'sn=F-2', '#hap_setup']);
    expect(rows(buildFactoryCsv({ ...identity, serial: { namespace: 'hap_setup', key: 'serial', value: 'F-3' } })).slice(0, 3)).toEqual(['#hap_setup', 'serial=F-3', 'setup_id=ES32']);
  });

  it('custom data may not write the serial number (as it may not write the identity)', () => {
    const custom = 'key,type,encoding,value\ndevice,namespace,,\nsn,data,string,FAKE\n';
    expect(() => checkFactoryCustomData(custom, 'custom.csv', 'homekit', { namespace: 'device', key: 'sn' })).toThrow(NvsInputError);
    expect(() => checkFactoryCustomData(custom, 'custom.csv', 'homekit', { namespace: 'device', key: 'sn' })).toThrow(/custom\.csv.*line 3.*serial number/);
  });

  it('a profile whose custom data writes the serial key is refused when it is loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-serial-'));
    writeFileSync(join(dir, 'p.csv'), HOMEKIT_PARTITION_CSV);
    writeFileSync(join(dir, 'custom.csv'), 'key,type,encoding,value\ndevice,namespace,,\nsn,data,string,FAKE\n');
    writeFileSync(join(dir, 'profile.json'), JSON.stringify({ ...base, customData: { csv: 'custom.csv' }, serial: SERIAL }));
    await expect(loadProfile(join(dir, 'profile.json'))).rejects.toThrow(/customData\.csv: .*serial number/);
  });
});
