// The chips the station flashes, and the per-chip facts the write plan needs.

export type ChipName = 'esp32' | 'esp32s3' | 'esp32c3';
export const CHIP_NAMES: readonly ChipName[] = ['esp32', 'esp32s3', 'esp32c3'];

interface ChipFacts {
  /** What esptool-js calls it (`ROM.CHIP_NAME`). */
  esptoolName: string;
  /** Where the ROM loads the 2nd-stage bootloader from. */
  bootloaderOffset: number;
  /** `chip_id` in the extended header of an app/bootloader image built for this chip. */
  imageChipId: number;
}

export const CHIP_FACTS: Record<ChipName, ChipFacts> = {
  esp32: { esptoolName: 'ESP32', bootloaderOffset: 0x1000, imageChipId: 0 },
  esp32s3: { esptoolName: 'ESP32-S3', bootloaderOffset: 0x0, imageChipId: 9 },
  esp32c3: { esptoolName: 'ESP32-C3', bootloaderOffset: 0x0, imageChipId: 5 },
};

export function isChipName(value: unknown): value is ChipName {
  return typeof value === 'string' && (CHIP_NAMES as readonly string[]).includes(value);
}

/** 'ESP32-S3' / 'esp32-s3' / 'esp32s3' → 'esp32s3'; anything else → undefined. */
export function normalizeChipName(name: string): ChipName | undefined {
  const n = name.trim().toLowerCase().replace(/[-_\s]/g, '');
  return isChipName(n) ? n : undefined;
}

/** Reads the target chip from an ESP-IDF app/bootloader image header (undefined if not an image). */
export function imageTargetChip(data: Uint8Array): ChipName | 'other' | undefined {
  // Image header: magic 0xE9 at 0, 8-byte common header, then the extended header whose
  // bytes 4..5 (file offset 12..13) hold the chip id.
  if (data.length < 24 || data[0] !== 0xe9) return undefined;
  const id = data[12] | (data[13] << 8);
  for (const name of CHIP_NAMES) if (CHIP_FACTS[name].imageChipId === id) return name;
  return 'other';
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
