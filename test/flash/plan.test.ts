// The write plan: what goes where, and every refusal (before a port is ever opened).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWritePlan, parseFlasherArgs, validatePlan, type FlashPlan, type WritePlanInput } from '../../src-main/flash/plan.ts';
import { checkPlanAgainstDevice } from '../../src-main/flash/flasher.ts';
import { FlashError } from '../../src-main/flash/errors.ts';
import type { DeviceInfo } from '../../src-main/flash/session.ts';
import { buildDir, fixture, flasherArgs, FIXTURES, nvsImage, TABLE_BIN, TABLE_CSV } from './helpers.ts';

const enc = new TextEncoder();

async function refusal(input: Promise<unknown> | (() => unknown)): Promise<FlashError> {
  try {
    await (typeof input === 'function' ? input() : input);
  } catch (err) {
    expect(err).toBeInstanceOf(FlashError);
    return err as FlashError;
  }
  throw new Error('expected a refusal');
}

/** flasher_args of the esp32 fixture, with one file's contents replaced. */
function withFile(file: string, data: Uint8Array): WritePlanInput['readFile'] {
  return async (p) => (p.endsWith(file) ? data : new Uint8Array(readFileSync(p)));
}

const base = (): WritePlanInput => ({ partitionTable: TABLE_CSV(), factoryNvs: nvsImage(0) });

describe('buildWritePlan', () => {
  it('writes gen_esp32part.py’s binary for the CSV, and a binary table as given', async () => {
    const fromCsv = await buildWritePlan(base());
    const fromBin = await buildWritePlan({ ...base(), partitionTable: TABLE_BIN() });
    for (const plan of [fromCsv, fromBin]) {
      const table = plan.regions.find((r) => r.name === 'partition-table')!;
      expect(table.offset).toBe(0x8000);
      expect(Buffer.from(table.data).equals(Buffer.from(TABLE_BIN()))).toBe(true);
    }
    expect(fromCsv.partitions).toEqual(fromBin.partitions);
  });

  it('puts the factory NVS image at the factory_nvs partition, padded with 0xFF to the partition size', async () => {
    const plan = await buildWritePlan(base());
    // partitions_hap.json: factory_nvs at 0x340000, size 0x6000; the image is 0x4000 bytes.
    expect(plan.nvsRegion).toEqual({ offset: 0x340000, size: 0x6000 });
    const nvs = plan.regions.find((r) => r.name === 'factory_nvs')!;
    expect(nvs.offset).toBe(0x340000);
    expect(nvs.data.length).toBe(0x6000);
    expect(Buffer.from(nvs.data.subarray(0, 0x4000)).equals(Buffer.from(nvsImage(0)))).toBe(true);
    expect(nvs.data.subarray(0x4000).every((b) => b === 0xff)).toBe(true);
    expect(plan.regions.map((r) => r.name)).toEqual(['partition-table', 'factory_nvs']);
    expect(plan.requiredFlashSize).toBe(0x347000); // nvs_keys ends at 0x346000 + 0x1000
  });

  it('adds the images of an ESP-IDF build from flasher_args.json, named after its sections', async () => {
    const plan = await buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32') });
    expect(plan.chip).toBe('esp32');
    expect(plan.regions.map((r) => [r.name, r.offset])).toEqual([
      ['bootloader', 0x1000],
      ['partition-table', 0x8000],
      ['otadata', 0x16000],
      ['app', 0x20000],
      ['factory_nvs', 0x340000],
    ]);
    expect(plan.regions.find((r) => r.name === 'app')!.data).toEqual(fixture('idf-build', 'esp32', 'fan.bin'));
    expect(plan.warnings).toEqual([]); // the build's partition-table.bin is the same table
    expect(plan.minFlashSize).toBe(4 * 1024 * 1024); // flash_settings.flash_size "4MB"
    expect(plan.requiredFlashSize).toBe(4 * 1024 * 1024);
  });

  it('uses the bootloader offset of each chip (0x1000 on ESP32, 0x0 on S3/C3)', async () => {
    for (const [chip, at] of [['esp32s3', 0], ['esp32c3', 0]] as const) {
      const plan = await buildWritePlan({ ...base(), flasherArgs: flasherArgs(chip) });
      expect(plan.regions[0]).toMatchObject({ name: 'bootloader', offset: at });
      expect(plan.chip).toBe(chip);
    }
  });

  it('warns (and writes the given table) when the build’s partition table differs', async () => {
    const other = new Uint8Array(TABLE_BIN());
    other[0x10] ^= 0xff; // a name byte
    const plan = await buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), readFile: withFile('partition-table.bin', other) });
    expect(plan.warnings[0]).toMatch(/differs from the given partition table/);
    expect(plan.regions.find((r) => r.name === 'partition-table')!.data).toEqual(TABLE_BIN());
  });

  it('parses flasher_args.json: offsets, names, chip', () => {
    const parsed = parseFlasherArgs(JSON.parse(readFileSync(join(buildDir('esp32s3'), 'flasher_args.json'), 'utf8')));
    expect(parsed.chip).toBe('esp32s3');
    expect(parsed.tableOffset).toBe(0x8000);
    expect(parsed.images.map((i) => [i.name, i.offset, i.file]).sort()).toEqual(
      [
        ['app', 0x20000, 'fan.bin'],
        ['bootloader', 0x0, 'bootloader/bootloader.bin'],
        ['otadata', 0x16000, 'ota_data_initial.bin'],
        ['partition-table', 0x8000, 'partition_table/partition-table.bin'],
      ].sort(),
    );
  });
});

describe('refusals', () => {
  it('image-too-large: a factory NVS image bigger than its partition', async () => {
    const err = await refusal(buildWritePlan({ ...base(), factoryNvs: new Uint8Array(0x7000).fill(0xff) }));
    expect(err.code).toBe('image-too-large');
    expect(err.message).toMatch(/factory NVS image \(0x7000 bytes\) is larger than partition 'factory_nvs' \(0x6000 bytes\)/);
  });

  it('image-too-large: an app bigger than its OTA slot, a bootloader running into the table', async () => {
    const app = await refusal(
      buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), readFile: withFile('fan.bin', new Uint8Array(0x190001).fill(0xe9)) }),
    );
    expect(app.code).toBe('image-too-large');
    expect(app.message).toMatch(/app .* larger than partition 'ota_0' \(0x190000 bytes\)/);
    const boot = await refusal(
      buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), readFile: withFile('bootloader.bin', new Uint8Array(0x7001)) }),
    );
    expect(boot.code).toBe('image-too-large');
    expect(boot.message).toMatch(/runs into the partition table at 0x8000/);
  });

  it('overlap: two writes touching the same 4 KiB sector', async () => {
    const plan = await buildWritePlan(base());
    const bad: FlashPlan = { ...plan, regions: [...plan.regions, { name: 'extra', offset: 0x343000, data: new Uint8Array(16) }] };
    const err = await refusal(() => validatePlan(bad));
    expect(err.code).toBe('overlap');
    expect(err.message).toMatch(/factory_nvs .* and extra \(at 0x343000\)/);
    // Different bytes, same sector: still an overlap (each write erases the whole sector).
    const sameSector: FlashPlan = {
      ...plan,
      partitions: [],
      regions: [
        { name: 'a', offset: 0x10000, data: new Uint8Array(0x800) },
        { name: 'b', offset: 0x10000 + 0x1000 * 0, data: new Uint8Array(4) },
      ],
    };
    expect((await refusal(() => validatePlan(sameSector))).code).toBe('overlap');
  });

  it('overlap: a build image placed on top of the factory NVS partition', async () => {
    const json = flasherArgs('esp32').json as { flash_files: Record<string, string> };
    const moved = { ...json, flash_files: { ...json.flash_files, '0x340000': 'ota_data_initial.bin' } };
    const err = await refusal(buildWritePlan({ ...base(), flasherArgs: { json: moved, baseDir: buildDir('esp32') } }));
    expect(err.code).toBe('overlap');
  });

  it('wrong-chip: the build is for another chip than requested, or an image was built for another chip', async () => {
    const a = await refusal(buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), expectedChip: 'esp32s3' }));
    expect(a.code).toBe('wrong-chip');
    expect(a.message).toMatch(/for esp32, not esp32s3/);
    const c3app = fixture('idf-build', 'esp32c3', 'fan.bin');
    const b = await refusal(buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), readFile: withFile('fan.bin', c3app) }));
    expect(b.code).toBe('wrong-chip');
    expect(b.message).toMatch(/app is built for esp32c3, but the plan is for esp32/);
  });

  it('flash-too-small: the chip’s flash cannot hold the layout', async () => {
    const plan = await buildWritePlan(base());
    const info = { port: 'p', chip: 'esp32', chipName: 'ESP32', mac: '24:0a:c4:00:00:01', flashSize: 2 * 1024 * 1024, flashId: 0x1540ef } as DeviceInfo;
    const err = await refusal(() => checkPlanAgainstDevice(plan, info));
    expect(err.code).toBe('flash-too-small');
    expect(err.message).toMatch(/2 MB of flash, the layout needs 0x347000 bytes/);
    expect(() => checkPlanAgainstDevice(plan, { ...info, flashSize: 4 * 1024 * 1024 })).not.toThrow();
    const noFlash = await refusal(() => checkPlanAgainstDevice(plan, { ...info, flashSize: 0, flashId: 0xffffff }));
    expect(noFlash.code).toBe('flash-too-small');
  });

  it('invalid-plan: no factory_nvs partition, bad NVS size, bad CSV, encrypted images, table offset mismatch', async () => {
    const noNvs = enc.encode('nvs, data, nvs, 0x9000, 0x6000,\nfactory, app, factory, 0x10000, 1M,\n');
    expect((await refusal(buildWritePlan({ ...base(), partitionTable: noNvs }))).message).toMatch(/no 'factory_nvs' partition/);
    const notNvs = enc.encode('factory_nvs, data, spiffs, 0x9000, 0x6000,\nfactory, app, factory, 0x10000, 1M,\n');
    expect((await refusal(buildWritePlan({ ...base(), partitionTable: notNvs }))).message).toMatch(/not a data\/nvs partition/);
    expect((await refusal(buildWritePlan({ ...base(), factoryNvs: new Uint8Array(100) }))).code).toBe('invalid-plan');
    const badCsv = await refusal(buildWritePlan({ ...base(), partitionTable: enc.encode('nvs, data, nvs, 0x9000, zz,\n') }));
    expect(badCsv.code).toBe('invalid-plan');
    expect(badCsv.message).toMatch(/^partition table \(line 1/);
    const json = flasherArgs('esp32').json as Record<string, unknown>;
    const encrypted = { ...json, app: { offset: '0x20000', file: 'fan.bin', encrypted: 'true' } };
    expect((await refusal(buildWritePlan({ ...base(), flasherArgs: { json: encrypted, baseDir: buildDir('esp32') } }))).message).toMatch(/encrypted/);
    const offset = await refusal(buildWritePlan({ ...base(), flasherArgs: flasherArgs('esp32'), tableOffset: 0x9000 }));
    expect(offset.message).toMatch(/differs from the build's 0x8000/);
    const missing = await refusal(buildWritePlan({ ...base(), flasherArgs: { json, baseDir: join(FIXTURES, 'nowhere') } }));
    expect(missing.message).toMatch(/cannot read bootloader\/bootloader.bin \(ENOENT\)/);
  });
});
