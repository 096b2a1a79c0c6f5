// What the virtual chip charges for its own work (erase, program, read, MD5, stub start-up), and
// how the ROM and the flasher stub split an erase into sector / block operations. Every figure has
// its source next to it; `timingScale` multiplies them all (0 for fast tests). The serial line's
// own time (10 bits per byte at the baud rate, USB latency) is charged by wire.ts / chip.ts.
//
// Sources:
//   [W25Q] Winbond W25Q32JV datasheet, AC electrical characteristics (the 4 MB part on most
//          ESP32 modules): tSE 4 KiB sector erase 45 ms typ (400 ms max), tBE2 64 KiB block erase
//          150 ms typ, tCE chip erase 10 s typ, tPP page program 0.4 ms typ per 256-byte page.
//   [SPEC] ../shared/spec/esp-serial-protocol.md §11.2 and §15 (programming ≈ 300–500 KiB/s,
//          MD5 "several MiB/s", MEM_END → OHAI "a few ms").
//   [ROM]  ESP-IDF's copy of the ROM erase routine (esp_rom_spiflash_erase_area): head sectors up
//          to a 64 KiB boundary, then 64 KiB blocks while MORE than 16 sectors remain, then tail
//          sectors — unconditionally, before the ROM answers *_BEGIN.
//   [STUB] esp-flasher-stub ≥ v1.1.0 (esptool-js 0.7.0 ships v1.2.x: same ESP32 entry 0x400a902c
//          and 6456-byte text): *_BEGIN answers at once; erasing happens as data arrives; while no
//          dirty sector has been seen, each sector is read and skipped if blank; from the first
//          dirty sector on everything is erased, with a 64 KiB block erase when the address is
//          block-aligned and at least 16 sectors remain (as the legacy stub did). ERASE_REGION
//          erases unconditionally. On ESP32 the stub raises the CPU clock at start and
//          re-programs the UART divider with a 5 ms pause before and after (esp-stub-lib
//          target/esp32 uart.c), so it greets ~11 ms after MEM_END; S3/C3 skip that on a UART.

export const SECTOR = 0x1000;
const SECTORS_PER_BLOCK = 16;

/** Chip-side processing times, in ms or bytes per ms; multiplied by `timingScale`. */
export interface ChipTiming {
  /** [W25Q] tSE typical. */
  sectorEraseMs: number;
  /** [W25Q] tBE2 typical. */
  blockEraseMs: number;
  /** [W25Q] tCE 10 s typ for 4 MiB ≈ 2.5 s/MiB; [SPEC] 10–40 s per 4 MB. */
  chipEraseMsPerMiB: number;
  /** [SPEC] ≈ 300–500 KiB/s; [W25Q] 256 B per 0.4 ms page = 640 KiB/s peak, less per-page overhead. */
  programBytesPerMs: number;
  /** Reading flash for the stub's blank-sector check: 40 MHz SPI clock, one bit per clock = 5 MB/s. */
  readBytesPerMs: number;
  /** [SPEC] "several MiB/s" (flash read + MD5 in software). */
  md5BytesPerMs: number;
  /** [SPEC] MEM_END → OHAI "a few ms" (S3/C3); ESP32 uses `esp32StubStartMs`. */
  stubStartMs: number;
  /** [STUB] clock boost + two 5 ms pauses around the UART divider change, plus start-up. */
  esp32StubStartMs: number;
}

export const DATASHEET_TIMING: ChipTiming = {
  sectorEraseMs: 45,
  blockEraseMs: 150,
  chipEraseMsPerMiB: 2500,
  programBytesPerMs: 400,
  readBytesPerMs: 5000,
  md5BytesPerMs: 8000,
  stubStartMs: 3,
  esp32StubStartMs: 11,
};

/** Erase work: how many sector and block erases, and how many sectors were read for a blank check. */
export interface EraseWork {
  sectors: number;
  blocks: number;
  checked: number;
}

export function eraseMs(work: EraseWork, t: ChipTiming): number {
  return work.sectors * t.sectorEraseMs + work.blocks * t.blockEraseMs + (work.checked * SECTOR) / t.readBytesPerMs;
}

/** First sector index and sector count covering [offset, offset + size). */
function sectorRange(offset: number, size: number): { first: number; count: number } {
  if (size <= 0) return { first: Math.floor(offset / SECTOR), count: 0 };
  const first = Math.floor(offset / SECTOR);
  return { first, count: Math.ceil((offset + size) / SECTOR) - first };
}

/** [ROM] The ROM's erase of *_BEGIN: unconditional, sectors to the next block boundary, blocks, tail. */
export function romEraseWork(offset: number, size: number): EraseWork {
  const { first, count } = sectorRange(offset, size);
  const head = Math.min(SECTORS_PER_BLOCK - (first % SECTORS_PER_BLOCK), count);
  let rest = count - head;
  let blocks = 0;
  while (rest > SECTORS_PER_BLOCK) {
    blocks++;
    rest -= SECTORS_PER_BLOCK;
  }
  return { sectors: head + rest, blocks, checked: 0 };
}

/**
 * [STUB] The stub's erase for a write: leading blank sectors are read and skipped; from the first
 * dirty one on, blocks where aligned with ≥ 16 sectors left, else sectors. `isBlank(i)` tells
 * whether sector i (absolute index) holds only 0xFF before the write.
 */
export function stubWriteEraseWork(offset: number, size: number, isBlank: (sector: number) => boolean): EraseWork {
  const { first, count } = sectorRange(offset, size);
  let i = 0;
  let checked = 0;
  while (i < count) {
    checked++;
    if (!isBlank(first + i)) break;
    i++;
  }
  const rest = stubRegionEraseWork((first + i) * SECTOR, (count - i) * SECTOR);
  return { ...rest, checked };
}

/** [STUB] ERASE_REGION (and the tail of a write once a dirty sector was seen): no blank checks. */
export function stubRegionEraseWork(offset: number, size: number): EraseWork {
  const { first, count } = sectorRange(offset, size);
  let sectors = 0;
  let blocks = 0;
  for (let i = 0; i < count; ) {
    if ((first + i) % SECTORS_PER_BLOCK === 0 && count - i >= SECTORS_PER_BLOCK) {
      blocks++;
      i += SECTORS_PER_BLOCK;
    } else {
      sectors++;
      i++;
    }
  }
  return { sectors, blocks, checked: 0 };
}
