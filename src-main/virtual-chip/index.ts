// Public surface of the virtual ESP chip (demo mode and serial tests).
export {
  VirtualChip,
  formatMac,
  ROM_BAUD,
  STRAP_SAMPLE_MS,
  USB_CDC_EQUIVALENT_BAUD,
  type ChipMode,
  type ConnectOptions,
  type HostListener,
  type HostPort,
  type VirtualChipOptions,
  type VirtualFault,
} from './chip.ts';
export { VirtualChipRegistry, type VirtualPortInfo } from './registry.ts';
export { createVirtualBinding, VirtualPortBinding, type VirtualBinding } from './binding.ts';
export { virtualPortOpener, type VirtualPortOpener } from './port-opener.ts';
export { firmwareDescriptor, parseFirmwareModel, FIRMWARE_KINDS, FIRMWARE_MARKER, type FirmwareModel } from './firmware-console.ts';
export { CHIP_KINDS, PROFILES, USB_IDENTITIES, type ChipProfile, type ResetCircuit, type VirtualChipKind } from './profiles.ts';
export { LoaderEngine, OP, type UnsupportedReplyStyle } from './loader.ts';
export { DATASHEET_TIMING, eraseMs, romEraseWork, stubRegionEraseWork, stubWriteEraseWork, type ChipTiming, type EraseWork } from './timing.ts';
export { NorFlash, SECTOR_SIZE } from './flash-model.ts';
export { SlipDecoder, slipEncode } from './slip.ts';
export { BITS_PER_BYTE, bytesCompleted, wireTimeMs, Wire } from './wire.ts';
// servePty lives in './pty-server.ts' (not re-exported: it loads serialport's native binding).
