// The per-job choice between the ROM's own write and the flasher stub, on the jobs the station
// has: a factory NVS with its partition table (small), the same with a 1 MB app (large), on a
// blank unit, a unit flashed before, and one that already holds the bytes.
import { describe, expect, it } from 'vitest';
import { chooseLoader, romEraseEstimateMs, type ChoiceInput, type RegionJob } from '../../src-main/flash/write-strategy.ts';

const table = (state: RegionJob['state']): RegionJob => ({ offset: 0x8000, length: 3072, dataLength: 3072, compressedLength: 178, state });
const nvs = (state: RegionJob['state']): RegionJob => ({ offset: 0x340000, length: 0x6000, dataLength: 0x2020, compressedLength: 700, state });
const app = (state: RegionJob['state']): RegionJob => ({ offset: 0x20000, length: 1 << 20, dataLength: 1 << 20, compressedLength: 620_000, state });

function input(jobs: RegionJob[], extra: Partial<ChoiceInput> = {}): ChoiceInput {
  return {
    jobs,
    link: { baud: 921600, commandMs: 1.5 },
    stub: { bytes: 6668, ramBlockSize: 0x1800 },
    romBlockSize: 0x400,
    stubBlockSize: 0x4000,
    needsStub: false,
    romPathKnown: true,
    stubRunning: false,
    ...extra,
  };
}

describe('chooseLoader', () => {
  it('blank unit, table + NVS: the stub, which skips erasing blank sectors, beats the ROM erasing 7 sectors first', () => {
    const c = chooseLoader(input([table('blank'), nvs('blank')]));
    expect(c.loader).toBe('stub');
    expect(c.romMs).toBeGreaterThan(315); // 7 × 45 ms of erase alone
    expect(c.stubMs).toBeLessThan(c.romMs);
  });

  it('unit flashed before (same table, other identity): the ROM, since the stub would erase the same sectors after its upload', () => {
    const c = chooseLoader(input([table('identical'), nvs('dirty')]));
    expect(c.loader).toBe('rom');
    expect(c.reason).toMatch(/estimated ROM \d+ ms vs stub \d+ ms/);
  });

  it('everything already on flash: nothing to write, no stub upload', () => {
    expect(chooseLoader(input([table('identical'), nvs('identical')]))).toMatchObject({ loader: 'rom', romMs: 0 });
  });

  it('a 1 MB app: the stub (16 KiB blocks streamed while programming) on blank and used units alike', () => {
    expect(chooseLoader(input([table('blank'), nvs('blank'), app('blank')])).loader).toBe('stub');
    expect(chooseLoader(input([table('dirty'), nvs('dirty'), app('dirty')])).loader).toBe('stub');
  });

  it('at 115200 the stub upload costs 0.6 s, so a small job on a used unit stays in the ROM', () => {
    expect(chooseLoader(input([table('dirty'), nvs('dirty')], { link: { baud: 115200, commandMs: 1.5 } })).loader).toBe('rom');
  });

  it('read-back, a running stub, no stub image, an unknown chip and an explicit choice decide on their own', () => {
    expect(chooseLoader(input([nvs('dirty')], { needsStub: true })).loader).toBe('stub');
    expect(chooseLoader(input([nvs('blank')], { stubRunning: true })).loader).toBe('stub');
    expect(chooseLoader(input([nvs('blank')], { stub: { bytes: 0, ramBlockSize: 0x1800 } })).loader).toBe('rom');
    expect(chooseLoader(input([nvs('dirty')], { romPathKnown: false })).loader).toBe('stub');
    expect(chooseLoader(input([nvs('blank')], { prefer: 'rom' })).loader).toBe('rom');
    expect(chooseLoader(input([nvs('dirty')], { prefer: 'stub' })).loader).toBe('stub');
  });
});

describe('romEraseEstimateMs', () => {
  it('follows the ROM: sectors up to a 64 KiB boundary, blocks while more than 16 sectors remain, then sectors', () => {
    expect(romEraseEstimateMs(0x8000, 3072)).toBe(45);
    expect(romEraseEstimateMs(0x340000, 0x6000)).toBe(6 * 45);
    // 1 MiB from a block boundary: 16 head sectors, 14 blocks, 16 tail sectors (the ROM's own split).
    expect(romEraseEstimateMs(0x20000, 1 << 20)).toBe(32 * 45 + 14 * 150);
  });
});
