// Shared fixtures for the flash tests: the esp-homekit-sdk partition table, real factory NVS
// images (factory_nvs_gen.py output) and a fake ESP-IDF build per chip (flasher_args.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { SerialPortMock } from 'serialport';
import { buildWritePlan, type FlashPlan } from '../../src-main/flash/plan.ts';
import { createVirtualBinding, type VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import type { ChipName } from '../../src-main/flash/chips.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'flash');

export function fixture(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, ...parts)));
}

export const TABLE_CSV = () => fixture('partition', 'partitions_hap.csv');
export const TABLE_BIN = () => fixture('partition', 'partitions_hap.bin');

export const NVS_CASES = ['01-readme-basic/fan_factory.bin', '02-adk-doc-example/outlet.bin', '03-leading-zero-code/acc.bin', '04-salt-leading-zero-bytes/acc.bin'];

export function nvsImage(index = 0): Uint8Array {
  return fixture('homekit', 'factory', ...NVS_CASES[index].split('/'));
}

export function nvsCase(index = 0): { setup_id: string; salt_hex: string } {
  const dir = NVS_CASES[index].split('/')[0];
  return JSON.parse(readFileSync(join(FIXTURES, 'homekit', 'factory', dir, 'case.json'), 'utf8'));
}

export function buildDir(chip: ChipName): string {
  return join(FIXTURES, 'idf-build', chip);
}

export function flasherArgs(chip: ChipName): { json: unknown; baseDir: string } {
  return { json: JSON.parse(readFileSync(join(buildDir(chip), 'flasher_args.json'), 'utf8')), baseDir: buildDir(chip) };
}

/** Partition table + factory NVS (+ the chip's fake IDF build). */
export function homekitPlan(chip: ChipName, options: { withBuild?: boolean; nvs?: number } = {}): Promise<FlashPlan> {
  return buildWritePlan({
    partitionTable: TABLE_CSV(),
    factoryNvs: nvsImage(options.nvs ?? 0),
    flasherArgs: options.withBuild === false ? undefined : flasherArgs(chip),
    expectedChip: chip,
  });
}

/** Opening the port works only if every earlier user released it. */
export async function assertPortFree(registry: VirtualChipRegistry, path: string): Promise<void> {
  const port = new SerialPortStream({ binding: createVirtualBinding(registry) as never, path, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => port.close(() => resolve()));
}

/** Sector-aligned copy of what a region should leave on flash (the rest of its last sector erased). */
export function flashSlice(flash: Uint8Array, offset: number, length: number): Uint8Array {
  return flash.subarray(offset, offset + length);
}

/** serialport's mock binding (typed through serialport's re-export). */
export const MockBinding = SerialPortMock.binding;
