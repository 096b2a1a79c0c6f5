// NOR flash: erased = 0xFF, erase works on whole 4 KiB sectors, programming can only clear bits
// (`flash &= data`), so a write without a preceding erase shows up as corruption (spec §11.2).

export const SECTOR_SIZE = 0x1000;

export class FlashRangeError extends Error {}

export class NorFlash {
  readonly bytes: Uint8Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < SECTOR_SIZE || size % SECTOR_SIZE !== 0) {
      throw new RangeError(`flash size must be a positive multiple of 4 KiB, got ${size}`);
    }
    this.bytes = new Uint8Array(size).fill(0xff);
  }

  /** JEDEC RDID answer as the SPI W0 register holds it: manufacturer | type << 8 | capacity << 16 (Winbond). */
  jedecId(): number {
    const capacity = Math.round(Math.log2(this.size));
    return 0xef | (0x40 << 8) | (capacity << 16);
  }

  /** Erases every sector touched by [offset, offset + length); returns how many sectors were not blank. */
  erase(offset: number, length: number): number {
    if (length <= 0) return 0;
    this.check(offset, length);
    const start = Math.floor(offset / SECTOR_SIZE) * SECTOR_SIZE;
    const end = Math.min(this.size, Math.ceil((offset + length) / SECTOR_SIZE) * SECTOR_SIZE);
    let dirty = 0;
    for (let s = start; s < end; s += SECTOR_SIZE) {
      const sector = this.bytes.subarray(s, s + SECTOR_SIZE);
      if (sector.some((b) => b !== 0xff)) dirty++;
      sector.fill(0xff);
    }
    return dirty;
  }

  /** True when sector `index` holds only 0xFF (what the stub's blank check reads). */
  isSectorBlank(index: number): boolean {
    const start = index * SECTOR_SIZE;
    if (start < 0 || start >= this.size) return true;
    return this.bytes.subarray(start, start + SECTOR_SIZE).every((b) => b === 0xff);
  }

  eraseAll(): void {
    this.bytes.fill(0xff);
  }

  program(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    for (let i = 0; i < data.length; i++) this.bytes[offset + i] &= data[i];
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FlashRangeError(`flash access 0x${offset.toString(16)}+0x${length.toString(16)} beyond 0x${this.size.toString(16)}`);
    }
  }
}
