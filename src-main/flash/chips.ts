// What the flasher adds to the shared chip table (shared/chips.ts): esptool-js's class for each
// chip, and the ESP32 ROM's baud-rate workaround. Nothing here lists chips: the table does.
// Sources: esptool 5.3.1 (the ESP32 ROM baud workaround registers), esptool-js 0.7.0 (one module per
// chip under lib/targets/, class `<ID>ROM`).
import type { ROM } from 'esptool-js';
import { CHIP_IDS, CHIP_MAGIC_REG, chipFromMagic, chipInfo, imageTargetChip, isChipId, normalizeChipId, type ChipId } from '../../shared/chips.ts';

export { CHIP_MAGIC_REG, chipFromMagic, chipInfo, imageTargetChip };

/** The flasher's name for a chip: the shared table's id. */
export type ChipName = ChipId;
export const CHIP_NAMES: readonly ChipName[] = CHIP_IDS;
export const isChipName = isChipId;
export const normalizeChipName = normalizeChipId;

/** esptool-js's ROM class for the chip (module `lib/targets/<id>.js`, class `<ID>ROM`), loaded on first use. */
export async function romFor(id: ChipId): Promise<ROM> {
  const module = (await import(`esptool-js/lib/targets/${id}.js`)) as Record<string, new () => ROM>;
  const RomClass = module[`${id.toUpperCase()}ROM`];
  if (!RomClass) throw new Error(`esptool-js has no ROM class for ${chipInfo(id).name}`);
  return new RomClass();
}

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

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
