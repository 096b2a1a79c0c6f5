// The firmware side of a virtual board: what it prints when it boots from flash instead of entering
// the loader (spec §14.3), so the station's boot check has something real to read. The ROM banner
// comes first (chip.ts), then one of these models:
//   * no image at the bootloader offset → the ROM's "invalid header" complaint;
//   * otherwise the 2nd-stage bootloader's log, then the app's, by firmware model:
//     'homekit' — starts, reads its factory NVS from the flash the chip holds (the partition named
//                 factory_nvs in the table at 0x8000) and prints setup_id and every string value;
//     'panic'   — starts, then a Guru Meditation panic and "Rebooting..." (then the ROM again);
//     'silent'  — prints nothing at all (console off, or the firmware hangs before its first line);
//     'lines'   — prints exactly the lines given.
// Which model runs: the chip's `firmware` option if set (firmware pre-flashed at the module
// vendor's, which the virtual flash does not hold byte for byte); else the descriptor a stand-in
// app image carries (the ASCII text `VIRTUAL-FIRMWARE:` + a JSON model + NUL, anywhere in its first
// 64 KiB: swapping the app image swaps the firmware); else 'homekit'.
import { decodePartitionBinary, isPartitionBinary, type PartitionEntry } from '../../shared/partition/index.ts';
import { readNvsImage } from '../../shared/nvs/reader.ts';
import type { ChipProfile } from './profiles.ts';

export type FirmwareModel =
  | { kind: 'homekit'; name?: string; version?: string }
  | { kind: 'panic'; name?: string; version?: string }
  | { kind: 'silent' }
  | { kind: 'lines'; lines: string[] };

export const FIRMWARE_KINDS: readonly FirmwareModel['kind'][] = ['homekit', 'panic', 'silent', 'lines'];
/** Marks a firmware model inside a stand-in app image. */
export const FIRMWARE_MARKER = 'VIRTUAL-FIRMWARE:';
const TABLE_OFFSET = 0x8000;
const DESCRIPTOR_SCAN = 0x10000;
const APP_TYPE = 0x00;
const DATA_TYPE = 0x01;
const NVS_SUBTYPE = 0x02;

/** What the firmware can see of its board. */
export interface BoardView {
  profile: ChipProfile;
  flash: Uint8Array;
  revision: number;
  mac: Uint8Array;
  /** The chip's `firmware` option (pre-flashed firmware), if any. */
  firmware?: FirmwareModel;
}

export function formatRevision(revision: number): string {
  return `v${Math.floor(revision / 100)}.${revision % 100}`;
}

/** The bytes a stand-in app image carries to name its firmware model (see the file comment). */
export function firmwareDescriptor(model: FirmwareModel): Uint8Array {
  return new TextEncoder().encode(`${FIRMWARE_MARKER}${JSON.stringify(model)}\0`);
}

/** Checks an untrusted firmware model (a descriptor, a CLI option); throws a one-line Error. */
export function parseFirmwareModel(value: unknown): FirmwareModel {
  const m = value as Partial<Record<string, unknown>> | null;
  if (!m || typeof m !== 'object' || !FIRMWARE_KINDS.includes(m.kind as FirmwareModel['kind'])) throw new Error(`firmware model must have kind ${FIRMWARE_KINDS.join(', ')}`);
  const text = (k: string) => (m[k] === undefined || typeof m[k] === 'string' ? (m[k] as string | undefined) : undefined);
  if (m.kind === 'lines') {
    if (!Array.isArray(m.lines) || !m.lines.every((l) => typeof l === 'string')) throw new Error("firmware model 'lines' needs lines: an array of strings");
    return { kind: 'lines', lines: [...(m.lines as string[])] };
  }
  if (m.kind === 'silent') return { kind: 'silent' };
  const out: { kind: 'homekit' | 'panic'; name?: string; version?: string } = { kind: m.kind as 'homekit' | 'panic' };
  const name = text('name');
  const version = text('version');
  if (name !== undefined) out.name = name;
  if (version !== undefined) out.version = version;
  return out;
}

/** Text after the ROM banner on a flash boot. */
export function flashBootText(board: BoardView): string {
  const { profile, flash } = board;
  const at = profile.bootloaderOffset;
  // Pre-flashed firmware brings its own bootloader; otherwise the ROM needs one on the flash.
  if (!board.firmware && flash[at] !== 0xe9) {
    const word = (flash[at]! | (flash[at + 1]! << 8) | (flash[at + 2]! << 16) | (flash[at + 3]! << 24)) >>> 0;
    // A real ROM repeats this until the watchdog resets it; three lines make the point.
    return `invalid header: 0x${word.toString(16).padStart(8, '0')}\r\n`.repeat(3);
  }
  const table = partitions(flash);
  const app = table.find((p) => p.type === APP_TYPE && flash[p.offset] === 0xe9);
  const model = board.firmware ?? (app ? descriptorIn(flash.subarray(app.offset, app.offset + Math.min(app.size, DESCRIPTOR_SCAN))) : undefined) ?? { kind: 'homekit' };
  if (model.kind === 'silent') return '';
  if (model.kind === 'lines') return model.lines.map((l) => `${l}\r\n`).join('');
  const boot = bootloaderLines(board, app);
  if (!app && !board.firmware) return lines([...boot, 'E (45) boot: No bootable app partitions in the partition table']);
  const name = model.name ?? 'firmware';
  const started = [...boot, `I (210) cpu_start: Pro cpu start user code`, `I (230) app_main: ${name}${model.version ? ` ${model.version}` : ''} on virtual ${profile.name}, MAC ${macText(board.mac)}`];
  if (model.kind === 'panic') return lines([...started, ...panicLines(profile)]) + '\r\n' + profile.banner(false);
  return lines([...started, ...factoryLines(flash, table), `I (260) app_main: accessory ready`]);
}

function lines(list: string[]): string {
  return list.map((l) => `${l}\r\n`).join('');
}

function macText(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function partitions(flash: Uint8Array): PartitionEntry[] {
  const bytes = flash.subarray(TABLE_OFFSET, TABLE_OFFSET + 0xc00);
  if (!isPartitionBinary(bytes)) return [];
  try {
    return decodePartitionBinary(bytes).entries;
  } catch {
    return [];
  }
}

function descriptorIn(image: Uint8Array): FirmwareModel | undefined {
  const text = new TextDecoder('latin1').decode(image);
  const at = text.indexOf(FIRMWARE_MARKER);
  if (at < 0) return undefined;
  const end = text.indexOf('\0', at);
  try {
    return parseFirmwareModel(JSON.parse(text.slice(at + FIRMWARE_MARKER.length, end < 0 ? undefined : end)));
  } catch {
    return undefined; // a damaged descriptor: the app runs as plain firmware
  }
}

function bootloaderLines(board: BoardView, app: PartitionEntry | undefined): string[] {
  return [
    `I (27) boot: ESP-IDF v5.2.1 2nd stage bootloader`,
    `I (27) boot: compile time Jan  1 2024 00:00:00`,
    `I (28) boot: chip revision: ${formatRevision(board.revision)}`,
    `I (31) boot: Enabling RNG early entropy source...`,
    ...(app ? [`I (36) boot: Loaded app from partition at offset 0x${app.offset.toString(16)}`] : []),
  ];
}

/** ESP-IDF's panic handler output (the exception name differs between Xtensa and RISC-V cores). */
function panicLines(profile: ChipProfile): string[] {
  const cause = profile.cpu === 'xtensa' ? 'LoadProhibited' : 'Load access fault';
  return [
    `Guru Meditation Error: Core  0 panic'ed (${cause}). Exception was unhandled.`,
    '',
    'Core  0 register dump:',
    profile.cpu === 'xtensa' ? 'PC      : 0x400d2f5a  PS      : 0x00060830  A0      : 0x800d3a1c  A1      : 0x3ffb2260' : 'MEPC    : 0x42008d1e  RA      : 0x42008d0c  SP      : 0x3fc98e30  GP      : 0x3fc8f600',
    '',
    'Rebooting...',
  ];
}

/** What the app reads from its factory NVS partition: setup_id and every string value. */
function factoryLines(flash: Uint8Array, table: PartitionEntry[]): string[] {
  const part = table.find((p) => p.name === 'factory_nvs' && p.type === DATA_TYPE && p.subtype === NVS_SUBTYPE);
  if (!part) return ['E (241) factory_nvs: no factory_nvs partition in the partition table'];
  const read = readNvsImage(flash.subarray(part.offset, part.offset + part.size));
  const setupId = read.items.find((i) => i.namespace === 'hap_setup' && i.key === 'setup_id' && i.intact);
  if (!setupId) return ['E (241) factory_nvs: cannot read the factory partition (erased, damaged or encrypted)'];
  const out = [`I (241) factory_nvs: hap_setup/setup_id = ${new TextDecoder().decode(setupId.value as Uint8Array)}`];
  for (const item of read.items) {
    if (item.type === 'string' && item.intact) out.push(`I (242) factory_nvs: ${item.namespace}/${item.key} = ${item.value as string}`);
  }
  return out;
}
