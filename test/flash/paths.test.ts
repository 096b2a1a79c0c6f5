// Every way the flasher can write — the ROM's own loader, the uploaded stub, a stub found already
// running, a stub that came up at 115200 after a ROM baud switch, and the automatic choice on a
// blank and on a used unit — must leave byte-identical flash on all three chips, and each must
// refuse a corrupted write with the same typed error.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VirtualChipRegistry, virtualPortOpener, type VirtualChip, type VirtualChipOptions } from '../../src-main/virtual-chip/index.ts';
import { flashDevice, type FlashOptions, type FlashResult } from '../../src-main/flash/flasher.ts';
import { FlashError } from '../../src-main/flash/errors.ts';
import type { FlashPlan } from '../../src-main/flash/plan.ts';
import type { ChipName } from '../../src-main/flash/chips.ts';
import { assertPortFree, homekitPlan } from './helpers.ts';

const PATH = 'virtual:dut';
const SECTOR = 0x1000;
const CHIPS: ChipName[] = ['esp32', 'esp32s3', 'esp32c3'];

interface WritePath {
  name: string;
  options: FlashOptions;
  chip?: Partial<VirtualChipOptions>;
  /** Bring the chip into the state this path starts from (may flash it once). */
  prepare?: (registry: VirtualChipRegistry, vchip: VirtualChip, plan: FlashPlan) => Promise<void>;
  loader: 'rom' | 'stub';
}

/** A unit that was provisioned before: the same table, another identity in its factory NVS. */
async function flashedBefore(_registry: VirtualChipRegistry, vchip: VirtualChip, plan: FlashPlan): Promise<void> {
  const older = await homekitPlan(vchip.options.chip as ChipName, { nvs: 2 });
  for (const r of older.regions) vchip.flash.set(r.data, r.offset);
  expect(older.regions.find((r) => r.name === 'factory_nvs')!.data).not.toEqual(plan.regions.find((r) => r.name === 'factory_nvs')!.data);
}

const PATHS: WritePath[] = [
  { name: 'ROM loader', options: { loader: 'rom' }, loader: 'rom' },
  { name: 'flasher stub', options: { loader: 'stub' }, loader: 'stub' },
  { name: 'automatic, blank unit', options: {}, loader: 'stub' },
  { name: 'automatic, unit flashed before', options: {}, prepare: flashedBefore, loader: 'rom' },
  {
    name: 'stub found already running',
    // A first run leaves its stub running at 921600 (no reset afterwards); the second syncs at
    // that rate (a UART stays at the rate the stub was left at) and finds it answering SYNC.
    options: { before: 'no-reset', romBaud: 921600 },
    chip: { startInDownloadMode: true },
    prepare: async (registry, vchip) => {
      const other = await homekitPlan(vchip.options.chip as ChipName, { withBuild: false, nvs: 1 });
      await flashDevice(PATH, other, { openPort: virtualPortOpener(registry), loader: 'stub', before: 'no-reset', after: 'no-reset' });
      expect(vchip.stubRunning).toBe(true);
    },
    loader: 'stub',
  },
  { name: 'stub that restarts the UART at 115200', options: { loader: 'stub' }, chip: { stubRestoresRomBaud: true }, loader: 'stub' },
];

/** What the flash must hold: the old contents, each written region's sectors erased, then its bytes. */
function expectedFlash(before: Uint8Array, plan: FlashPlan): Uint8Array {
  const out = before.slice();
  for (const r of plan.regions) {
    const start = Math.floor(r.offset / SECTOR) * SECTOR;
    const end = Math.ceil((r.offset + r.data.length) / SECTOR) * SECTOR;
    out.fill(0xff, start, end);
    out.set(r.data, r.offset);
  }
  return out;
}

function firstDifference(a: Uint8Array, b: Uint8Array): string {
  const at = a.findIndex((v, i) => v !== b[i]);
  return at < 0 ? 'none' : `0x${at.toString(16)}`;
}

async function setUp(chip: ChipName, path: WritePath) {
  const registry = new VirtualChipRegistry();
  const vchip = registry.create(PATH, { chip, mac: '24:0a:c4:10:20:30', pacing: false, ...path.chip });
  const plan = await homekitPlan(chip);
  await path.prepare?.(registry, vchip, plan);
  return { registry, vchip, plan };
}

describe.each(CHIPS)('writing a virtual %s', (chip) => {
  it.each(PATHS)('$name: byte-identical flash, every region MD5-checked', async (path) => {
    const { registry, vchip, plan } = await setUp(chip, path);
    const expected = expectedFlash(vchip.flash, plan);
    const result: FlashResult = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry), ...path.options });
    expect(result.loader).toBe(path.loader);
    expect(result.baud).toBe(921600);
    expect(firstDifference(vchip.flash, expected)).toBe('none');
    for (const r of result.regions) {
      const region = plan.regions.find((p) => p.name === r.name)!;
      expect(r.md5, r.name).toBe(md5Of(region.data));
    }
    await assertPortFree(registry, PATH);
  });

  it.each(PATHS)('$name: a flipped bit in flash is refused as verify-mismatch naming the region', async (path) => {
    const { registry, vchip, plan } = await setUp(chip, path);
    vchip.injectFault({ kind: 'corrupt-write', offset: 0x340010 });
    const err = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry), ...path.options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('verify-mismatch');
    expect((err as FlashError).message).toMatch(/^Verification failed on virtual:dut \(factory_nvs at 0x340000\)/);
    await assertPortFree(registry, PATH);
    // The next run finds the damaged region and writes it again.
    const again = await flashDevice(PATH, plan, { openPort: virtualPortOpener(registry), ...path.options, before: 'default-reset' });
    expect(again.regions.find((r) => r.name === 'factory_nvs')!.unchanged).toBeUndefined();
    expect(firstDifference(vchip.flash, expectedFlash(vchip.flash, plan))).toBe('none');
  });
});

function md5Of(data: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil(data.length / 4) * 4).fill(0xff);
  padded.set(data);
  return createHash('md5').update(padded).digest('hex');
}

