// The download-mode protocol's constants and packet helpers (spec §3–§5), shared by the loader
// engine and its read / write paths: opcodes, the SYNC value, the failure kinds with their ROM
// error codes and stub status codes, and little-endian / checksum helpers.

export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export const SYNC_VALUE = 0x20120707;
export const CHECKSUM_SEED = 0xef;
export const EMPTY = new Uint8Array(0);
export const OHAI = new TextEncoder().encode('OHAI');
/** The rate a ROM starts its download mode at (spec §1). */
export const ROM_DEFAULT_BAUD = 115200;

/** Failure kinds with their ROM error code and stub status code (spec §3.3). */
export const ERR = {
  badLength: { rom: 0x05, stub: 0xc0 },
  checksum: { rom: 0x07, stub: 0xc1 },
  badBlockSize: { rom: 0x05, stub: 0xc2 },
  invalidCommand: { rom: 0x05, stub: 0xc3 },
  spiFailed: { rom: 0x08, stub: 0xc4 },
  notInMode: { rom: 0x05, stub: 0xc6 },
  inflate: { rom: 0x0b, stub: 0xc7 },
  notEnoughData: { rom: 0x05, stub: 0xc8 },
  tooMuchData: { rom: 0x05, stub: 0xc9 },
  notImplemented: { rom: 0x05, stub: 0xff },
} as const;
export type ErrKind = keyof typeof ERR;

export const u32 = (d: Uint8Array, at: number) => (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0;
export const u16 = (d: Uint8Array, at: number) => d[at] | (d[at + 1] << 8);

export function le32(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
}

export function checksum(data: Uint8Array): number {
  let c = CHECKSUM_SEED;
  for (const b of data) c ^= b;
  return c;
}
