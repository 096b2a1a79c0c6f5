// Moving EN and IO0 through DTR / RTS: into the ROM's download mode, and back into the firmware.
// Instead of esptool's fixed sleeps (100 ms EN low, then 50 or 550 ms IO0 held low), IO0 is held
// only until the ROM prints that it is waiting for download — the strap has been sampled by then
// — with esptool's delays as the upper bound for boards whose ROM prints nothing.
//
// Circuits (spec §14.1): a UART bridge's two transistors (EN low = RTS on, DTR off; IO0 low = DTR
// on, RTS off), or the native USB-Serial/JTAG, which resets while RTS is on and DTR off and boots
// the ROM loader if DTR was on when RTS rose.
import type { NodeSerialDevice, UsbInfo } from './transport.ts';

export type ResetCircuit = 'uart-bridge' | 'usb-serial-jtag';

/**
 * How long EN is held low. The ESP32 datasheet asks for ≥ 50 µs below V_IL on CHIP_PU; the board's
 * EN capacitor (1 µF in Espressif's design guidelines) discharges through the bridge transistor in
 * well under a millisecond, and a USB bridge applies each line change as one control transfer
 * (≥ one 1 ms USB frame). esptool holds 100 ms.
 */
export const RESET_HOLD_MS = 10;
/** Upper bounds for holding IO0 low while no banner came: esptool's reset delays (50 ms, then 550 ms). */
export const IO0_HOLD_MS = [50, 550] as const;

const DOWNLOAD_BANNER = /waiting for download/;
/** A complete boot banner that is not the download one: the strap was missed and the firmware runs. */
const FLASH_BOOT_BANNER = /boot:0x[0-9a-fA-F]+ \((?!DOWNLOAD)[^)\r\n]*\)/;

export type BootSeen = 'download' | 'firmware' | 'nothing';

export function resetCircuitFor(usb: UsbInfo): ResetCircuit {
  return usb.usbVendorId === 0x303a && usb.usbProductId === 0x1001 ? 'usb-serial-jtag' : 'uart-bridge';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function lines(device: NodeSerialDevice, dtr: boolean, rts: boolean): Promise<void> {
  await device.setSignals({ dataTerminalReady: dtr, requestToSend: rts });
}

/**
 * Resets the chip into its ROM loader and waits (at most `holdMs`) for the banner. Returns what
 * the chip said: the download banner, a firmware boot banner (IO0 was not seen low), or nothing.
 */
export async function resetIntoDownload(device: NodeSerialDevice, circuit: ResetCircuit, holdMs: number, signal?: AbortSignal): Promise<BootSeen> {
  const mark = device.rxBytes;
  if (circuit === 'usb-serial-jtag') {
    await lines(device, false, false);
    await lines(device, true, false);
    await lines(device, true, true); // RTS rises with DTR on: the peripheral latches "download"
    await lines(device, false, true); // RTS on, DTR off: chip held in reset
    await sleep(RESET_HOLD_MS);
    await lines(device, false, false); // released: the ROM starts in download mode
  } else {
    await lines(device, false, true); // EN low, IO0 high
    await sleep(RESET_HOLD_MS);
    await lines(device, true, false); // EN released with IO0 low
  }
  const either = new RegExp(`${DOWNLOAD_BANNER.source}|${FLASH_BOOT_BANNER.source}`);
  await device.waitForText(either, mark, holdMs, signal);
  if (circuit === 'uart-bridge') await lines(device, false, false); // IO0 released
  const text = device.textSince(mark);
  if (DOWNLOAD_BANNER.test(text)) return 'download';
  return FLASH_BOOT_BANNER.test(text) ? 'firmware' : 'nothing';
}

/** Resets the chip into its firmware: EN pulsed low with IO0 high (RTS rising with DTR off on USB-Serial/JTAG). */
export async function resetIntoFirmware(device: NodeSerialDevice): Promise<void> {
  await lines(device, false, true);
  await sleep(RESET_HOLD_MS);
  await lines(device, false, false);
}
