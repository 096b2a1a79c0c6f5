// Public surface of the flash engine (plain Node; no Electron).
export { FlashError, toFlashError, flashErrorMessage, isFlashError, type FlashErrorCode } from './errors.ts';
export { CHIP_NAMES, isChipName, normalizeChipName, type ChipName } from './chips.ts';
export { classifyUsbBridge, normalizeUsbId, type BridgeKind, type UsbBridge } from './usb-ids.ts';
export { listPorts, probePort, describePort, PortWatcher, type PortDescription, type ListPortsOptions, type PortWatcherOptions, type ListingBinding } from './ports.ts';
export { NodeSerialDevice, lookupUsbInfo, type UsbInfo, type WireStats } from './transport.ts';
export { openSerialPort, createPortOpener, isVirtualPath, type PortOpener, type OpenSerialPortOptions } from './open-port.ts';
export { buildWritePlan, validatePlan, parseFlasherArgs, DEFAULT_TABLE_OFFSET, type FlashPlan, type FlashRegion, type WritePlanInput } from './plan.ts';
export { FlashSession, DEFAULT_BAUD, ROM_BAUD, type ConnectOptions, type DeviceInfo, type FlashProgress, type FlashStage } from './session.ts';
export { type LoaderChoice } from './write-strategy.ts';
export {
  connectAndIdentify,
  flashDevice,
  openFlashSession,
  writePlan,
  checkPlanAgainstDevice,
  md5Hex,
  type FlashOptions,
  type FlashResult,
  type ReadbackResult,
  type WrittenRegion,
} from './flasher.ts';
