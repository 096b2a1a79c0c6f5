// The one chip table. Every chip the station knows — flasher, profiles, CLI, UI, virtual chip,
// docs — comes from CHIPS below; nothing else lists chips (test/unit/chip-table.test.ts fails if a
// second list appears). Adding a chip: a row here, its ROM model in src-main/virtual-chip/profiles.ts
// (the test checks there is one for every row), the enum in docs/profile.schema.json (checked too).
//
// Sources: esptool 4.x/5.x target classes (magic values, image chip ids, bootloader offsets, the
// ROM's FLASH_BEGIN layout and GET_SECURITY_INFO answer), esptool-js 0.7.0 (which ships a flasher
// stub for every chip here) and Espressif's USB ids (USB-Serial/JTAG 303a:1001; USB-OTG ROM
// download: product id = the chip's image chip id).

export interface ChipInfo {
  /** The station's name for the chip: profiles (`expectedChip`), `virtual:<id>`, the database. */
  readonly id: string;
  /** esptool's CHIP_NAME; what tiles, labels and messages show. */
  readonly name: string;
  /** Values of the magic register at 0x40001000 (READ_REG answers one of them; several revisions). */
  readonly magic: readonly number[];
  /** `chip_id` in the extended header of an ESP-IDF image built for the chip. */
  readonly imageChipId: number;
  /**
   * GET_SECURITY_INFO in the ROM: 'none' (not implemented, ESP32), 'short' (12 bytes without chip
   * id or API version: ESP32-S2), 'full' (20 bytes; the chip id equals `imageChipId`).
   */
  readonly securityInfo: 'none' | 'short' | 'full';
  /** Where the ROM loads the 2nd-stage bootloader from. */
  readonly bootloaderOffset: number;
  /** The ROM's FLASH_BEGIN / FLASH_DEFL_BEGIN take a 5th ("encrypted") word (every ROM since ESP32-S2). */
  readonly romBeginHasEncryptWord: boolean;
  /** A flasher stub exists for it (esptool-js 0.7.0). */
  readonly stub: boolean;
  /** The ESP32 ROM needs esptool's crystal-estimate correction of CHANGE_BAUDRATE (ESP32 only). */
  readonly romBaudNeedsXtalCorrection: boolean;
  /** The chip's own USB, if any: USB-Serial/JTAG (a CDC port, resettable through DTR/RTS) or USB-OTG. */
  readonly nativeUsb: 'usb-serial-jtag' | 'usb-otg' | null;
  /** USB vendor:product ids the chip itself enumerates as (its ROM's USB-OTG download, its USB-Serial/JTAG). */
  readonly usbIds: readonly string[];
}

/** USB-Serial/JTAG of every chip that has one (ESP-IDF: the same id on S3, C3, C6, H2). */
export const USB_SERIAL_JTAG_ID = '303a:1001';

export const CHIPS = [
  {
    id: 'esp32', name: 'ESP32', magic: [0x00f01d83], imageChipId: 0, securityInfo: 'none', bootloaderOffset: 0x1000,
    romBeginHasEncryptWord: false, stub: true, romBaudNeedsXtalCorrection: true, nativeUsb: null, usbIds: [],
  },
  {
    id: 'esp32s2', name: 'ESP32-S2', magic: [0x000007c6], imageChipId: 2, securityInfo: 'short', bootloaderOffset: 0x1000,
    romBeginHasEncryptWord: true, stub: true, romBaudNeedsXtalCorrection: false, nativeUsb: 'usb-otg', usbIds: ['303a:0002'],
  },
  {
    id: 'esp32s3', name: 'ESP32-S3', magic: [0x00000009], imageChipId: 9, securityInfo: 'full', bootloaderOffset: 0x0,
    romBeginHasEncryptWord: true, stub: true, romBaudNeedsXtalCorrection: false, nativeUsb: 'usb-serial-jtag', usbIds: [USB_SERIAL_JTAG_ID, '303a:0009'],
  },
  {
    id: 'esp32c3', name: 'ESP32-C3', magic: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f], imageChipId: 5, securityInfo: 'full', bootloaderOffset: 0x0,
    romBeginHasEncryptWord: true, stub: true, romBaudNeedsXtalCorrection: false, nativeUsb: 'usb-serial-jtag', usbIds: [USB_SERIAL_JTAG_ID],
  },
  {
    id: 'esp32c6', name: 'ESP32-C6', magic: [0x2ce0806f], imageChipId: 13, securityInfo: 'full', bootloaderOffset: 0x0,
    romBeginHasEncryptWord: true, stub: true, romBaudNeedsXtalCorrection: false, nativeUsb: 'usb-serial-jtag', usbIds: [USB_SERIAL_JTAG_ID],
  },
] as const satisfies readonly ChipInfo[];

/** A chip id the station knows ('esp32', 'esp32s2' …). */
export type ChipId = (typeof CHIPS)[number]['id'];

/** Every chip id, in table order. */
export const CHIP_IDS: readonly ChipId[] = CHIPS.map((c) => c.id);

/** Magic register address (every ROM and stub answers READ_REG of it). */
export const CHIP_MAGIC_REG = 0x40001000;

export function isChipId(value: unknown): value is ChipId {
  return typeof value === 'string' && (CHIP_IDS as readonly string[]).includes(value);
}

/** The table row of a known chip; throws for anything else (a bug: ids are checked at the edges). */
export function chipInfo(id: ChipId): ChipInfo {
  const c = (CHIPS as readonly ChipInfo[]).find((x) => x.id === id);
  if (!c) throw new RangeError(`unknown chip '${String(id)}' (${CHIP_IDS.join(', ')})`);
  return c;
}

/** What an operator reads for a chip id: 'ESP32-S3'; an unknown id upper-cased. */
export function chipDisplayName(id: string): string {
  return (CHIPS as readonly ChipInfo[]).find((c) => c.id === id)?.name ?? id.toUpperCase();
}

/** 'ESP32-S3' / 'esp32-s3' / 'esp32s3' → 'esp32s3'; anything else → undefined. */
export function normalizeChipId(name: string): ChipId | undefined {
  const n = name.trim().toLowerCase().replace(/[-_\s]/g, '');
  return isChipId(n) ? n : undefined;
}

export function chipFromMagic(value: number): ChipId | undefined {
  return (CHIPS as readonly ChipInfo[]).find((c) => c.magic.includes(value >>> 0))?.id as ChipId | undefined;
}

/** The ids as a sentence for messages: "esp32, esp32s2, esp32s3, esp32c3 or esp32c6". */
export function chipIdList(conjunction: 'or' | 'and' = 'or'): string {
  return `${CHIP_IDS.slice(0, -1).join(', ')} ${conjunction} ${CHIP_IDS.at(-1)}`;
}

/** Reads the target chip from an ESP-IDF app/bootloader image header (undefined if not an image). */
export function imageTargetChip(data: Uint8Array): ChipId | 'other' | undefined {
  // Image header: magic 0xE9 at 0, 8-byte common header, then the extended header whose
  // bytes 4..5 (file offset 12..13) hold the chip id.
  if (data.length < 24 || data[0] !== 0xe9) return undefined;
  const id = data[12]! | (data[13]! << 8);
  return ((CHIPS as readonly ChipInfo[]).find((c) => c.imageChipId === id)?.id as ChipId | undefined) ?? 'other';
}
