// The write plan: which bytes go where on the flash, checked before any port is opened.
// Always: the partition table binary at its offset and the factory NVS image at the
// `factory_nvs` partition. Optionally: the images of an ESP-IDF build (bootloader, app,
// otadata…) listed in its `build/flasher_args.json`.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FlashError } from './errors.ts';
import { chipInfo, hex, imageTargetChip, isChipName, normalizeChipName, type ChipName } from './chips.ts';
import { chipIdList } from '../../shared/chips.ts';
import { loadPartitionTable, type PlanPartition } from './partition-input.ts';

export const DEFAULT_TABLE_OFFSET = 0x8000;
export const SECTOR = 0x1000;
/** Partition types / subtypes used here (ESP-IDF values). */
const TYPE_DATA = 0x01;
const SUBTYPE_NVS = 0x02;

export interface FlashRegion {
  /** 'partition-table', 'factory_nvs', 'bootloader', 'app', 'otadata', or the image's file name. */
  name: string;
  offset: number;
  data: Uint8Array;
}

export interface FlashPlan {
  /** The chip the images were built for; flashing refuses another one. */
  chip?: ChipName;
  /** Sorted by offset. */
  regions: FlashRegion[];
  /** The factory NVS partition (what read-back verification reads). */
  nvsRegion?: { offset: number; size: number };
  /** Flash size the build was configured for (flasher_args.json flash_settings.flash_size). */
  minFlashSize?: number;
  /** Highest end of any partition or region (or minFlashSize): the chip's flash must be at least this big. */
  requiredFlashSize: number;
  tableOffset: number;
  partitions: PlanPartition[];
  /** Things worth telling the operator that do not stop the run. */
  warnings: string[];
}

export interface WritePlanInput {
  /** Partition table as binary (starts AA 50) or CSV text bytes. */
  partitionTable: Uint8Array;
  /** The factory NVS image (its length must fit the partition). */
  factoryNvs: Uint8Array;
  /** Parsed `flasher_args.json` and the directory its file names are relative to. */
  flasherArgs?: { json: unknown; baseDir: string };
  /** Default: the build's partition-table offset, else 0x8000. */
  tableOffset?: number;
  expectedChip?: ChipName;
  /** Default 'factory_nvs'. */
  nvsPartitionName?: string;
  /** File reader for flasher_args images (default node:fs). */
  readFile?: (path: string) => Promise<Uint8Array>;
}

function refuse(code: 'invalid-plan' | 'image-too-large' | 'overlap' | 'wrong-chip', message: string): never {
  throw new FlashError(code, message, { stage: 'plan' });
}

interface BuildImage {
  name: string;
  offset: number;
  file: string;
}

interface ParsedFlasherArgs {
  chip?: ChipName;
  flashSize?: number;
  tableOffset?: number;
  tableFile?: string;
  images: BuildImage[];
}

function parseOffset(value: unknown, where: string): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isSafeInteger(n)) refuse('invalid-plan', `flasher_args.json: ${where}: offset '${String(value)}' is not a number`);
  return n;
}

/** Reads ESP-IDF's flasher_args.json (flash_files + the named bootloader/app/partition-table/otadata sections). */
export function parseFlasherArgs(json: unknown): ParsedFlasherArgs {
  if (!json || typeof json !== 'object') refuse('invalid-plan', 'flasher_args.json: not a JSON object');
  const root = json as Record<string, unknown>;
  const files = root.flash_files;
  if (!files || typeof files !== 'object') refuse('invalid-plan', "flasher_args.json: no 'flash_files' object");
  // Name each file after the section that lists it (bootloader, app, otadata, …).
  const names = new Map<string, string>();
  let tableOffset: number | undefined;
  let tableFile: string | undefined;
  for (const [section, value] of Object.entries(root)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const v = value as Record<string, unknown>;
    if (typeof v.file !== 'string' || v.offset === undefined) continue;
    if (String(v.encrypted).toLowerCase() === 'true') {
      refuse('invalid-plan', `flasher_args.json: '${section}' is marked encrypted; encrypted writes are not supported by the station`);
    }
    names.set(`${parseOffset(v.offset, section)}|${v.file}`, section);
    if (section === 'partition-table') {
      tableOffset = parseOffset(v.offset, section);
      tableFile = v.file;
    }
  }
  const images: BuildImage[] = [];
  for (const [offsetText, file] of Object.entries(files as Record<string, unknown>)) {
    if (typeof file !== 'string') refuse('invalid-plan', `flasher_args.json: flash_files['${offsetText}'] is not a file name`);
    const offset = parseOffset(offsetText, `flash_files['${offsetText}']`);
    const name = names.get(`${offset}|${file}`) ?? file.split('/').pop()!;
    images.push({ name, offset, file });
  }
  const extra = root.extra_esptool_args as Record<string, unknown> | undefined;
  let chip: ChipName | undefined;
  if (extra && typeof extra.chip === 'string') {
    chip = normalizeChipName(extra.chip);
    if (!chip) refuse('invalid-plan', `flasher_args.json: chip '${extra.chip}' is not supported (${chipIdList()})`);
  }
  const settings = root.flash_settings as Record<string, unknown> | undefined;
  const sizeMatch = /^(\d+)\s*(KB|MB)$/i.exec(String(settings?.flash_size ?? ''));
  const flashSize = sizeMatch ? Number(sizeMatch[1]) * (sizeMatch[2].toUpperCase() === 'MB' ? 0x100000 : 0x400) : undefined;
  return { chip, flashSize, tableOffset, tableFile, images };
}

export async function buildWritePlan(input: WritePlanInput): Promise<FlashPlan> {
  const warnings: string[] = [];
  const read = input.readFile ?? ((p: string) => readFile(p));
  const build = input.flasherArgs ? parseFlasherArgs(input.flasherArgs.json) : undefined;
  const chip = planChip(input.expectedChip, build);
  const tableOffset = planTableOffset(input.tableOffset, build);

  const table = loadPartitionTable(input.partitionTable, tableOffset);
  const regions: FlashRegion[] = [{ name: 'partition-table', offset: tableOffset, data: table.binary }];
  const nvsRegion = factoryNvsRegion(input, table.partitions);
  regions.push(nvsRegion);
  if (build && input.flasherArgs) {
    regions.push(...(await buildImageRegions(build.images, input.flasherArgs.baseDir, read, tableOffset, table.binary, warnings)));
  }

  regions.sort((a, b) => a.offset - b.offset);
  const plan: FlashPlan = {
    chip,
    regions,
    nvsRegion: { offset: nvsRegion.offset, size: nvsRegion.data.length },
    minFlashSize: build?.flashSize,
    requiredFlashSize: 0,
    tableOffset,
    partitions: table.partitions,
    warnings,
  };
  validatePlan(plan);
  return plan;
}

/** The chip the plan is for: the expected one (which the build must be for), else the build's. */
function planChip(expectedChip: ChipName | undefined, build: ParsedFlasherArgs | undefined): ChipName | undefined {
  if (expectedChip !== undefined && !isChipName(expectedChip)) {
    refuse('invalid-plan', `unsupported chip '${String(expectedChip)}' (${chipIdList()})`);
  }
  if (expectedChip && build?.chip && build.chip !== expectedChip) {
    refuse('wrong-chip', `the build in flasher_args.json is for ${build.chip}, not ${expectedChip} — use the firmware built for ${expectedChip}`);
  }
  return expectedChip ?? build?.chip;
}

/** The partition table's offset: the given one (which must be the build's), else the build's, else 0x8000. */
function planTableOffset(given: number | undefined, build: ParsedFlasherArgs | undefined): number {
  if (given !== undefined && build?.tableOffset !== undefined && given !== build.tableOffset) {
    refuse('invalid-plan', `partition table offset ${hex(given)} differs from the build's ${hex(build.tableOffset)} (CONFIG_PARTITION_TABLE_OFFSET): the bootloader would not find the table`);
  }
  const tableOffset = given ?? build?.tableOffset ?? DEFAULT_TABLE_OFFSET;
  if (tableOffset % SECTOR !== 0) refuse('invalid-plan', `partition table offset ${hex(tableOffset)} is not a multiple of 0x1000`);
  return tableOffset;
}

/** The factory NVS image as the write of its whole (data/nvs) partition. */
function factoryNvsRegion(input: WritePlanInput, partitions: PlanPartition[]): FlashRegion {
  const nvsName = input.nvsPartitionName ?? 'factory_nvs';
  const nvsPart = partitions.find((p) => p.name === nvsName);
  if (!nvsPart) refuse('invalid-plan', `the partition table has no '${nvsName}' partition for the factory NVS image`);
  if (nvsPart.type !== TYPE_DATA || nvsPart.subtype !== SUBTYPE_NVS) {
    refuse('invalid-plan', `partition '${nvsName}' is not a data/nvs partition (type ${hex(nvsPart.type)}, subtype ${hex(nvsPart.subtype)})`);
  }
  const nvs = input.factoryNvs;
  if (nvs.length === 0 || nvs.length % SECTOR !== 0) {
    refuse('invalid-plan', `the factory NVS image is ${nvs.length} bytes; an NVS image is a whole number of 4096-byte pages`);
  }
  if (nvs.length > nvsPart.size) {
    refuse('image-too-large', `the factory NVS image (${hex(nvs.length)} bytes) is larger than partition '${nvsName}' (${hex(nvsPart.size)} bytes)`);
  }
  // Fill the rest of the partition with 0xFF: NVS pages left over from an earlier, larger image
  // would still be read by the firmware (and could carry an older identity).
  const nvsData = new Uint8Array(nvsPart.size).fill(0xff);
  nvsData.set(nvs);
  return { name: nvsName, offset: nvsPart.offset, data: nvsData };
}

/**
 * The build's images, read in order. Its partition table is not written (the given one is); a
 * warning says so when the two differ.
 */
async function buildImageRegions(
  images: BuildImage[], baseDir: string, read: (path: string) => Promise<Uint8Array>, tableOffset: number, tableBinary: Uint8Array, warnings: string[],
): Promise<FlashRegion[]> {
  const regions: FlashRegion[] = [];
  for (const image of images) {
    const path = resolve(baseDir, image.file);
    let data: Uint8Array;
    try {
      data = new Uint8Array(await read(path));
    } catch (err) {
      refuse('invalid-plan', `flasher_args.json: cannot read ${image.file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (image.name === 'partition-table' || image.offset === tableOffset) {
      if (!sameBytes(data, tableBinary)) {
        warnings.push(`the build's ${image.file} differs from the given partition table; the given table is written`);
      }
      continue;
    }
    regions.push({ name: image.name, offset: image.offset, data });
  }
  return regions;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Checks a plan (also one made by hand): alignment, no two writes in the same 4 KiB sector
 * (each write erases whole sectors), every image inside its partition or the bootloader area,
 * images built for the plan's chip. Sets `requiredFlashSize`.
 */
export function validatePlan(plan: FlashPlan): FlashPlan {
  if (plan.regions.length === 0) refuse('invalid-plan', 'nothing to write');
  const regions = [...plan.regions].sort((a, b) => a.offset - b.offset);
  for (const r of regions) {
    if (!Number.isSafeInteger(r.offset) || r.offset < 0 || r.offset % SECTOR !== 0) {
      refuse('invalid-plan', `${r.name}: offset ${hex(r.offset)} is not a multiple of 0x1000`);
    }
    if (r.data.length === 0) refuse('invalid-plan', `${r.name}: the image is empty`);
  }
  const table = regions.find((r) => r.offset === plan.tableOffset);
  for (const r of regions) {
    if (r === table) continue;
    const end = r.offset + r.data.length;
    const part = plan.partitions.find((p) => r.offset >= p.offset && r.offset < p.offset + p.size);
    if (part) {
      if (end > part.offset + part.size) {
        refuse('image-too-large', `${r.name} (${hex(r.data.length)} bytes at ${hex(r.offset)}) is larger than partition '${part.name}' (${hex(part.size)} bytes)`);
      }
    } else if (plan.partitions.length > 0) {
      // Outside every partition only the bootloader area below the table is allowed.
      if (r.offset >= plan.tableOffset) {
        refuse('invalid-plan', `${r.name} at ${hex(r.offset)} is not inside any partition of the table`);
      }
      if (end > plan.tableOffset) {
        refuse('image-too-large', `${r.name} (${hex(r.data.length)} bytes at ${hex(r.offset)}) runs into the partition table at ${hex(plan.tableOffset)}`);
      }
    }
    if (plan.chip) {
      const target = imageTargetChip(r.data);
      if (target && target !== plan.chip) {
        refuse('wrong-chip', `${r.name} is built for ${target === 'other' ? 'another chip' : target}, but the plan is for ${plan.chip}`);
      }
      if (r.name === 'bootloader' && r.offset !== chipInfo(plan.chip).bootloaderOffset) {
        refuse('invalid-plan', `bootloader at ${hex(r.offset)}, but the ${plan.chip} ROM loads it from ${hex(chipInfo(plan.chip).bootloaderOffset)}`);
      }
    }
  }
  // After the containment checks: an image too large for its slot is reported as such, not as an overlap.
  for (let i = 1; i < regions.length; i++) {
    const a = regions[i - 1];
    const b = regions[i];
    const aEnd = roundUp(a.offset + a.data.length, SECTOR);
    if (b.offset < aEnd) {
      refuse('overlap', `${a.name} (${hex(a.offset)}..${hex(a.offset + a.data.length)}) and ${b.name} (at ${hex(b.offset)}) would both write flash sector ${hex(b.offset - (b.offset % SECTOR))}`);
    }
  }
  const partEnd = Math.max(0, ...plan.partitions.map((p) => p.offset + p.size));
  const regionEnd = Math.max(...regions.map((r) => r.offset + r.data.length));
  plan.regions = regions;
  plan.requiredFlashSize = Math.max(partEnd, regionEnd, plan.minFlashSize ?? 0);
  return plan;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
