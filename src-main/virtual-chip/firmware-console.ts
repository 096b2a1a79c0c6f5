// What a board prints when it boots from flash instead of entering the loader (spec §14.3).
import type { ChipProfile } from './profiles.ts';

export function formatRevision(revision: number): string {
  return `v${Math.floor(revision / 100)}.${revision % 100}`;
}

/**
 * Text after the ROM banner on a flash boot: the 2nd-stage bootloader and app log when an image
 * header (0xE9) sits at the bootloader offset, otherwise the ROM's "invalid header" complaint.
 */
export function flashBootText(profile: ChipProfile, flash: Uint8Array, revision: number, mac: Uint8Array): string {
  const at = profile.bootloaderOffset;
  if (flash[at] !== 0xe9) {
    const word = (flash[at] | (flash[at + 1] << 8) | (flash[at + 2] << 16) | (flash[at + 3] << 24)) >>> 0;
    const line = `invalid header: 0x${word.toString(16).padStart(8, '0')}\r\n`;
    // A real ROM repeats this until the watchdog resets it; three lines make the point.
    return line.repeat(3);
  }
  const macText = Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
  return [
    `I (27) boot: ESP-IDF v5.2.1 2nd stage bootloader`,
    `I (27) boot: compile time Jan  1 2024 00:00:00`,
    `I (28) boot: chip revision: ${formatRevision(revision)}`,
    `I (31) boot: Enabling RNG early entropy source...`,
    `I (36) boot: Loaded app from partition at offset 0x10000`,
    `I (210) cpu_start: Pro cpu start user code`,
    `I (230) app_main: virtual ${profile.name} firmware running, MAC ${macText}`,
    '',
  ].join('\r\n');
}
