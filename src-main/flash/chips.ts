// The chips the station flashes, and the per-chip facts the flasher needs: what esptool-js calls
// them, where their bootloader lives, how their ROM identifies itself and takes write commands.
// Sources: spec §6 (magic values), esptool 5.3.1 (ROM begin-command layout, the ESP32 ROM baud
// workaround registers), ESP-IDF image format (chip id).
import type { ROM } from 'esptool-js';

export type ChipName = 'esp32' | 'esp32s3' | 'esp32c3';
export const CHIP_NAMES: readonly ChipName[] = ['esp32', 'esp32s3', 'esp32c3'];

/** Every ROM (and stub) answers READ_REG of this address with the chip's magic value (spec §6). */
export const CHIP_MAGIC_REG = 0x40001000;

interface ChipFacts {
  /** What esptool-js calls it (`ROM.CHIP_NAME`). */
  esptoolName: string;
  /** Where the ROM loads the 2nd-stage bootloader from. */
  bootloaderOffset: number;
  /** `chip_id` in the extended header of an app/bootloader image built for this chip. */
  imageChipId: number;
  /** Values of the magic register (spec §6). */
  magic: readonly number[];
  /** The ROM's FLASH_BEGIN / FLASH_DEFL_BEGIN take a 5th ("encrypted") word (esptool: all ROMs but ESP32 / ESP8266). */
  romBeginHasEncryptWord: boolean;
  /** Loads esptool-js's class for the chip. */
  rom(): Promise<ROM>;
}

export const CHIP_FACTS: Record<ChipName, ChipFacts> = {
  esp32: {
    esptoolName: 'ESP32',
    bootloaderOffset: 0x1000,
    imageChipId: 0,
    magic: [0x00f01d83],
    romBeginHasEncryptWord: false,
    rom: async () => new (await import('esptool-js/lib/targets/esp32.js')).ESP32ROM(),
  },
  esp32s3: {
    esptoolName: 'ESP32-S3',
    bootloaderOffset: 0x0,
    imageChipId: 9,
    magic: [0x00000009],
    romBeginHasEncryptWord: true,
    rom: async () => new (await import('esptool-js/lib/targets/esp32s3.js')).ESP32S3ROM(),
  },
  esp32c3: {
    esptoolName: 'ESP32-C3',
    bootloaderOffset: 0x0,
    imageChipId: 5,
    magic: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f],
    romBeginHasEncryptWord: true,
    rom: async () => new (await import('esptool-js/lib/targets/esp32c3.js')).ESP32C3ROM(),
  },
};

/**
 * The ESP32 ROM sets its UART divider from a crystal frequency it estimated against the internal
 * 8 MHz clock, which drifts; esptool scales the rate it asks for by estimate / true crystal
 * (esptool 5.3.1 `ESP32ROM.change_baud`). These are the two words that estimate comes from.
 */
export const ESP32_ROM_XTAL_ESTIMATE = {
  /** RTC calibration result, value in bits 7..31. */
  rtcCaliReg: 0x3ff5f06c,
  /** eFuse word 4, low byte: the 8 MHz clock's factory frequency. */
  ck8mEfuseReg: 0x3ff5a010,
} as const;

/** The crystal frequency (Hz) the ESP32 ROM believes in, from the two words above. */
export function esp32RomXtalEstimate(rtcCali: number, efuseWord4: number): number {
  const cali = (rtcCali >>> 7) & 0x01ffffff;
  return (cali * 15625 * (efuseWord4 & 0xff)) / 40;
}

/** The rate to put in the ESP32 ROM's CHANGE_BAUDRATE so that the UART really runs at `baud`. */
export function esp32RomBaudArgument(baud: number, romXtalHz: number): number {
  const real = romXtalHz > 33_000_000 ? 40_000_000 : 26_000_000;
  return Math.floor((baud * romXtalHz) / real);
}

export function chipFromMagic(value: number): ChipName | undefined {
  return CHIP_NAMES.find((name) => CHIP_FACTS[name].magic.includes(value >>> 0));
}

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
