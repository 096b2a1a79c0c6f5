// The virtual chip's erase model against the ROM routine and the flasher stub it imitates
// (sources in src-main/virtual-chip/timing.ts).
import { describe, expect, it } from 'vitest';
import { DATASHEET_TIMING, eraseMs, romEraseWork, stubRegionEraseWork, stubWriteEraseWork } from '../../src-main/virtual-chip/index.ts';

const SECTOR = 0x1000;

describe('ROM erase (before it answers *_BEGIN)', () => {
  it('erases every sector of the range, blank or not, in the ROM routine’s head / block / tail split', () => {
    expect(romEraseWork(0x8000, 3072)).toEqual({ sectors: 1, blocks: 0, checked: 0 });
    expect(romEraseWork(0x340000, 0x6000)).toEqual({ sectors: 6, blocks: 0, checked: 0 });
    expect(romEraseWork(0x31000, 0x40000)).toEqual({ sectors: 15 + 1, blocks: 3, checked: 0 }); // 15 head sectors to 0x40000, 3 blocks, 1 tail sector
    expect(romEraseWork(0x20000, 0x100000)).toEqual({ sectors: 32, blocks: 14, checked: 0 }); // aligned start: still 16 head sectors
    expect(eraseMs(romEraseWork(0x340000, 0x6000), DATASHEET_TIMING)).toBe(6 * 45);
  });
});

describe('stub erase (as data arrives)', () => {
  it('skips leading blank sectors (each read once), then erases everything from the first dirty one', () => {
    const blank = () => true;
    expect(stubWriteEraseWork(0x340000, 0x6000, blank)).toEqual({ sectors: 0, blocks: 0, checked: 6 });
    const dirtyFrom = (first: number) => (s: number) => s < first;
    expect(stubWriteEraseWork(0x340000, 0x6000, dirtyFrom(0x342))).toEqual({ sectors: 4, blocks: 0, checked: 3 });
    // A dirty sector early in a 1 MiB write: the rest goes in 64 KiB blocks where aligned.
    expect(stubWriteEraseWork(0x20000, 0x100000, dirtyFrom(0x20))).toEqual({ sectors: 0, blocks: 16, checked: 1 });
    const ms = eraseMs(stubWriteEraseWork(0x340000, 0x6000, blank), DATASHEET_TIMING);
    expect(ms).toBeCloseTo((6 * SECTOR) / DATASHEET_TIMING.readBytesPerMs, 6);
  });

  it('ERASE_REGION erases unconditionally, blocks where aligned', () => {
    expect(stubRegionEraseWork(0x10000, 0x23000)).toEqual({ sectors: 3, blocks: 2, checked: 0 });
  });
});
