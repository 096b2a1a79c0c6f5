// USB bridges that can reach an ESP chip's download mode, by USB vendor:product id: the chips' own
// USB (from the chip table, shared/chips.ts) and the vendors' published ids for the usual
// dev-board UART bridges.
import { CHIPS, USB_SERIAL_JTAG_ID } from '../../shared/chips.ts';

/** How the host's DTR/RTS reach the chip: a two-transistor UART bridge, or Espressif's own USB. */
export type BridgeKind = 'uart-bridge' | 'usb-serial-jtag' | 'usb-otg';

export interface UsbBridge {
  kind: BridgeKind;
  /** Bridge family, e.g. 'CP210x'. */
  family: string;
  /** What the operator sees, e.g. 'Silicon Labs CP210x USB-UART bridge'. */
  description: string;
}

const ESPRESSIF = '303a';

/** The chips' own USB ids, from the chip table: USB-Serial/JTAG, and each ROM's USB-OTG download. */
function espressifIds(): Record<string, UsbBridge> {
  const out: Record<string, UsbBridge> = {};
  const jtag = CHIPS.filter((c) => (c.usbIds as readonly string[]).includes(USB_SERIAL_JTAG_ID)).map((c) => c.name);
  out[USB_SERIAL_JTAG_ID] = { kind: 'usb-serial-jtag', family: 'USB-Serial/JTAG', description: `Espressif USB-Serial/JTAG (native USB of ${jtag.join(', ')})` };
  for (const c of CHIPS) {
    for (const id of c.usbIds) {
      if (id !== USB_SERIAL_JTAG_ID) out[id] = { kind: 'usb-otg', family: 'USB-OTG', description: `Espressif USB-OTG CDC (${c.name} ROM download)` };
    }
  }
  return out;
}

const KNOWN: Record<string, UsbBridge> = {
  ...espressifIds(),
  '10c4:ea60': { kind: 'uart-bridge', family: 'CP210x', description: 'Silicon Labs CP2102/CP2102N/CP2104 USB-UART bridge' },
  '10c4:ea70': { kind: 'uart-bridge', family: 'CP210x', description: 'Silicon Labs CP2105 dual USB-UART bridge' },
  '10c4:ea71': { kind: 'uart-bridge', family: 'CP210x', description: 'Silicon Labs CP2108 quad USB-UART bridge' },
  '1a86:7523': { kind: 'uart-bridge', family: 'CH340', description: 'WCH CH340 USB-UART bridge' },
  '1a86:5523': { kind: 'uart-bridge', family: 'CH341', description: 'WCH CH341 USB-UART bridge' },
  '1a86:55d3': { kind: 'uart-bridge', family: 'CH343', description: 'WCH CH343 USB-UART bridge' },
  '1a86:55d4': { kind: 'uart-bridge', family: 'CH9102', description: 'WCH CH9102 USB-UART bridge' },
  '0403:6001': { kind: 'uart-bridge', family: 'FTDI', description: 'FTDI FT232R USB-UART bridge' },
  '0403:6010': { kind: 'uart-bridge', family: 'FTDI', description: 'FTDI FT2232 dual USB-UART/JTAG (ESP-Prog, WROVER-KIT)' },
  '0403:6011': { kind: 'uart-bridge', family: 'FTDI', description: 'FTDI FT4232 quad USB-UART bridge' },
  '0403:6014': { kind: 'uart-bridge', family: 'FTDI', description: 'FTDI FT232H USB-UART bridge' },
  '0403:6015': { kind: 'uart-bridge', family: 'FTDI', description: 'FTDI FT231X/FT230X USB-UART bridge' },
  '067b:2303': { kind: 'uart-bridge', family: 'PL2303', description: 'Prolific PL2303 USB-UART bridge' },
  '067b:23a3': { kind: 'uart-bridge', family: 'PL2303', description: 'Prolific PL2303GC USB-UART bridge' },
};

/** '0x10C4', '10c4', 'EA60' → '10c4'; undefined / junk → undefined. */
export function normalizeUsbId(id: string | number | undefined): string | undefined {
  if (id === undefined || id === null) return undefined;
  const hex = typeof id === 'number' ? id.toString(16) : id.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,4}$/.test(hex)) return undefined;
  return hex.padStart(4, '0');
}

/** Recognises an ESP-capable USB bridge; undefined when the ids are unknown or missing. */
export function classifyUsbBridge(vendorId: string | number | undefined, productId: string | number | undefined): UsbBridge | undefined {
  const vid = normalizeUsbId(vendorId);
  const pid = normalizeUsbId(productId);
  if (!vid || !pid) return undefined;
  const known = KNOWN[`${vid}:${pid}`];
  if (known) return known;
  if (vid === ESPRESSIF) {
    return { kind: 'usb-otg', family: 'Espressif', description: `Espressif USB device (product 0x${pid}; custom firmware PID)` };
  }
  return undefined;
}
