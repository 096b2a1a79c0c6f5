// The ROM model of every chip in the chip table (shared/chips.ts): what the hosts read that the
// table does not say (spec §5–§7, §14.3) — eFuse words for MAC / package / revision, the SPI
// controller layout for the flash-ID dance, the UART divider, ROM banners, the default USB wiring.
// Name, magic, image chip id, GET_SECURITY_INFO form and bootloader offset come from the table.
// Sources: esptool 4.x/5.x target classes (eFuse layouts, register addresses), boot logs of real
// boards (banners). ESP32-S2's USB-OTG download (re-enumeration on reset, 2 KiB RAM blocks) is not
// modelled: the virtual S2 sits behind a UART bridge, like the ESP32-S2-Saola and -DevKitM boards.
import { CHIP_IDS, USB_SERIAL_JTAG_ID, chipInfo, type ChipId, type ChipInfo } from '../../shared/chips.ts';

export type VirtualChipKind = ChipId;
/** How DTR/RTS reach EN/IO0: a CP210x-style two-transistor circuit or the native USB-Serial/JTAG. */
export type ResetCircuit = 'uart-bridge' | 'usb-jtag';

export const CHIP_KINDS: readonly VirtualChipKind[] = CHIP_IDS;

export interface SpiLayout {
  base: number;
  usr: number;
  usr1: number;
  usr2: number;
  mosiDlen: number;
  misoDlen: number;
  w0: number;
}

export interface UsbIdentity {
  vendorId: string;
  productId: string;
  manufacturer: string;
}

export interface ChipProfile {
  kind: VirtualChipKind;
  /** esptool's CHIP_NAME (from the table). */
  name: string;
  /** The magic register's value (one of the table's). */
  magic: number;
  /** GET_SECURITY_INFO: not implemented, the 12-byte form, or 20 bytes with `chipId` (from the table). */
  securityInfo: ChipInfo['securityInfo'];
  chipId: number;
  spi: SpiLayout;
  uartClkdivReg: number;
  /** Where the ROM looks for the 2nd-stage bootloader image (from the table). */
  bootloaderOffset: number;
  /** CPU core family (the firmware's panic output differs). */
  cpu: 'xtensa' | 'riscv';
  /** Default revision, esptool convention: major * 100 + minor. */
  defaultRevision: number;
  defaultCircuit: ResetCircuit;
  /**
   * The ROM implements READ_FLASH_SLOW (0x0E), used by `esptool read_flash --no-stub`. The spec
   * says ESP32 only, but esptool's own hardware tests run `--no-stub read_flash` on every chip but
   * the ESP8266 (S3 and C3 included), so every ROM modelled here answers it.
   */
  romReadFlashSlow: boolean;
  /** Espressif OUI used for default MACs. */
  oui: [number, number, number];
  efuses(mac: Uint8Array, revision: number): Map<number, number>;
  banner(downloadMode: boolean): string;
}

export const USB_IDENTITIES: Record<ResetCircuit, UsbIdentity> = {
  'uart-bridge': { vendorId: '10c4', productId: 'ea60', manufacturer: 'Silicon Labs' },
  'usb-jtag': { vendorId: USB_SERIAL_JTAG_ID.slice(0, 4), productId: USB_SERIAL_JTAG_ID.slice(5), manufacturer: 'Espressif' },
};

/** CRC-8 (Dallas/Maxim, reflected poly 0x8C) the ESP32 stores next to the factory MAC. */
export function macCrc8(mac: Uint8Array): number {
  let crc = 0;
  for (const byte of mac) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
}

/** A nominal ESP32: cali × 15625 × ck8m / 40 = 40 MHz (esptool's ROM crystal estimate). */
const ESP32_CK8M_EFUSE = 0x50;
const ESP32_RTC_CALI = 1280;

const macHigh = (mac: Uint8Array) => ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0;
const macLow = (mac: Uint8Array) => (mac[0] << 8) | mac[1];

/** What a model takes from the chip table. */
function fromTable(id: ChipId): Pick<ChipProfile, 'kind' | 'name' | 'magic' | 'securityInfo' | 'chipId' | 'bootloaderOffset'> {
  const c = chipInfo(id);
  return { kind: id, name: c.name, magic: c.magic[0]!, securityInfo: c.securityInfo, chipId: c.imageChipId, bootloaderOffset: c.bootloaderOffset };
}

const ESP32: ChipProfile = {
  ...fromTable('esp32'),
  cpu: 'xtensa',
  spi: { base: 0x3ff42000, usr: 0x1c, usr1: 0x20, usr2: 0x24, mosiDlen: 0x28, misoDlen: 0x2c, w0: 0x80 },
  uartClkdivReg: 0x3ff40014,
  defaultRevision: 300,
  defaultCircuit: 'uart-bridge',
  romReadFlashSlow: true,
  oui: [0x24, 0x0a, 0xc4],
  efuses(mac, revision) {
    const major = Math.floor(revision / 100);
    const minor = revision % 100;
    const efuse = 0x3ff5a000;
    // Word 3: package D0WD (1) in bits 9–11, CPU rated (bit 13) at 240 MHz (bit 12 clear).
    let word3 = (1 << 9) | (1 << 13);
    let word5 = (minor & 0x3) << 24;
    let apbDate = 0x16042000;
    // ESP32 major revision is spread over three bits that are set cumulatively (esptool get_chip_revision).
    if (major >= 1) word3 |= 1 << 15;
    if (major >= 2) word5 |= 1 << 20;
    if (major >= 3) apbDate |= 0x80000000;
    return new Map([
      [efuse + 0x00, 0],
      [efuse + 0x04, macHigh(mac)],
      [efuse + 0x08, ((macCrc8(mac) << 16) | macLow(mac)) >>> 0],
      [efuse + 0x0c, word3 >>> 0],
      // ADC vref calibrated (bits 8–12); low byte: the 8 MHz clock's factory frequency (EFUSE_RD_CK8M_FREQ).
      [efuse + 0x10, 0x00000a00 | ESP32_CK8M_EFUSE],
      [efuse + 0x14, word5 >>> 0],
      [efuse + 0x18, 0], // coding scheme none, no secure boot
      [0x3ff6607c, apbDate >>> 0],
      // RTC calibration result (bits 7..31) the ROM derived its crystal estimate from; esptool reads
      // it with the eFuse above to correct the ROM's CHANGE_BAUDRATE. Nominal part: exactly 40 MHz.
      [0x3ff5f06c, (ESP32_RTC_CALI << 7) >>> 0],
    ]);
  },
  banner(download) {
    const boot = download
      ? 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n'
      : 'boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n';
    return `ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),${boot}`;
  },
};

/** S3 and C3 share the BLOCK1 layout (minor rev 18–20, package 21–23, block minor 24–26; word 5: bit 23, major 24–25). */
function newerEfuses(base: number, mac: Uint8Array, revision: number, withBlock2: boolean): Map<number, number> {
  const major = Math.floor(revision / 100);
  const minor = revision % 100;
  const block1 = base + 0x44;
  // An S3 with minor-low 0, block version 1.1 is read as "v0.0" (eco0 quirk): pick block minor 2 then.
  const blockMinor = (minor & 7) === 0 ? 2 : 1;
  const word3 = ((minor & 7) << 18) | (blockMinor << 24);
  const word5 = (((minor >> 3) & 1) << 23) | ((major & 3) << 24);
  const regs = new Map<number, number>([
    [block1 + 0x00, macHigh(mac)],
    [block1 + 0x04, macLow(mac)],
    [block1 + 0x0c, word3 >>> 0],
    [block1 + 0x10, 0],
    [block1 + 0x14, word5 >>> 0],
  ]);
  if (withBlock2) regs.set(base + 0x5c + 0x10, 1); // BLOCK2 word 4: block major version 1
  return regs;
}

const ESP32S3: ChipProfile = {
  ...fromTable('esp32s3'),
  cpu: 'xtensa',
  spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
  uartClkdivReg: 0x60000014,
  defaultRevision: 2,
  defaultCircuit: 'usb-jtag',
  romReadFlashSlow: true,
  oui: [0xf4, 0x12, 0xfa],
  efuses: (mac, revision) => newerEfuses(0x60007000, mac, revision, true),
  banner(download) {
    const boot = download
      ? 'boot:0x0 (DOWNLOAD(USB/UART0))\r\nwaiting for download\r\n'
      : 'boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n';
    return `ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),${boot}`;
  },
};

const ESP32C3: ChipProfile = {
  ...fromTable('esp32c3'),
  cpu: 'riscv',
  magic: 0x1b31506f, // ECO3 (v0.3 / v0.4), the revision modelled
  spi: { base: 0x60002000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
  uartClkdivReg: 0x60000014,
  defaultRevision: 4,
  defaultCircuit: 'usb-jtag',
  romReadFlashSlow: true,
  oui: [0x58, 0xcf, 0x79],
  efuses: (mac, revision) => newerEfuses(0x60008800, mac, revision, false),
  banner(download) {
    const boot = download
      ? 'boot:0x7 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n'
      : 'boot:0xc (SPI_FAST_FLASH_BOOT)\r\n';
    return `ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),${boot}`;
  },
};

/**
 * ESP32-S2 BLOCK1 (esptool ESP32S2ROM): word 3 major 18–19, minor-high 20, flash 21–24, PSRAM 28–31;
 * word 4 package 0–3, minor-low 4–6. BLOCK2 word 4 bits 4–6: ADC calibration version.
 */
function s2Efuses(mac: Uint8Array, revision: number): Map<number, number> {
  const major = Math.floor(revision / 100);
  const minor = revision % 100;
  const base = 0x3f41a000;
  const block1 = base + 0x44;
  return new Map<number, number>([
    [block1 + 0x00, macHigh(mac)],
    [block1 + 0x04, macLow(mac)],
    [block1 + 0x0c, (((major & 3) << 18) | (((minor >> 3) & 1) << 20)) >>> 0],
    [block1 + 0x10, ((minor & 7) << 4) >>> 0],
    [base + 0x5c + 0x10, 1 << 4],
  ]);
}

const ESP32S2: ChipProfile = {
  ...fromTable('esp32s2'),
  cpu: 'xtensa',
  spi: { base: 0x3f402000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
  uartClkdivReg: 0x3f400014,
  defaultRevision: 100,
  // ESP32-S2 boards reach download mode through a UART bridge (USB-OTG download is not modelled).
  defaultCircuit: 'uart-bridge',
  romReadFlashSlow: true,
  oui: [0x7c, 0xdf, 0xa1],
  efuses: s2Efuses,
  banner(download) {
    const boot = download
      ? 'boot:0x0 (DOWNLOAD(USB/UART0/1/SPI))\r\nwaiting for download\r\n'
      : 'boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n';
    return `ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\nrst:0x1 (POWERON),${boot}`;
  },
};

const ESP32C6: ChipProfile = {
  ...fromTable('esp32c6'),
  cpu: 'riscv',
  // The C6 moved the SPI flash controller and the eFuses; the BLOCK1 layout is the C3's.
  spi: { base: 0x60003000, usr: 0x18, usr1: 0x1c, usr2: 0x20, mosiDlen: 0x24, misoDlen: 0x28, w0: 0x58 },
  uartClkdivReg: 0x60000014,
  defaultRevision: 1,
  defaultCircuit: 'usb-jtag',
  romReadFlashSlow: true,
  oui: [0x40, 0x4c, 0xca],
  efuses: (mac, revision) => newerEfuses(0x600b0800, mac, revision, false),
  banner(download) {
    const boot = download
      ? 'boot:0x4 (DOWNLOAD(USB/UART0/SDIO_FEI_FEO))\r\nwaiting for download\r\n'
      : 'boot:0xc (SPI_FAST_FLASH_BOOT)\r\n';
    return `ESP-ROM:esp32c6-20220919\r\nBuild:Sep 19 2022\r\nrst:0x1 (POWERON),${boot}`;
  },
};

/** One model per chip of the table, by id (a chip without a model fails here, at load). */
export const PROFILES: Readonly<Record<VirtualChipKind, ChipProfile>> = modelsByChip([ESP32, ESP32S2, ESP32S3, ESP32C3, ESP32C6]);

function modelsByChip(models: readonly ChipProfile[]): Record<VirtualChipKind, ChipProfile> {
  const out = {} as Record<VirtualChipKind, ChipProfile>;
  for (const m of models) out[m.kind] = m;
  const missing = CHIP_IDS.filter((id) => !out[id]);
  if (missing.length) throw new Error(`virtual chip: no ROM model for ${missing.join(', ')}`);
  return out;
}

export { CHIP_MAGIC_REG as CHIP_DETECT_MAGIC_REG } from '../../shared/chips.ts';
