// Node side of NVS image generation: read CSV files from disk and resolve `file` rows the way
// nvs_partition_gen.py does (relative paths against the working directory, not the CSV's folder).
import { resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { parseNvsCsv } from '../../shared/nvs/csv.ts';
import {
  generateNvsImageFromRows,
  NvsInputError,
  type NvsCsvRow,
  type NvsGenerateOptions,
} from '../../shared/nvs/writer.ts';
import { readInputFile, readInputFileSync } from '../fs/index.ts';

/** Where relative paths (CSV files and `file` rows) are resolved. */
export interface NvsFileContext {
  cwd: string;
}

export type NvsFileGenerateOptions = Omit<NvsGenerateOptions, 'readFile'>;

/** Reads a `file` row's value: absolute as is, relative to `cwd` (no `~` expansion, like the reference). */
export function fileRowReader(cwd: string): (path: string) => Uint8Array {
  return (path) => {
    return readInputFileSync(resolve(cwd, path));
  };
}

/**
 * Decodes a CSV file as the reference opens it: strict UTF-8, BOM kept (a BOM'd header then fails
 * the `key` column lookup, as in the reference). Rows carry `source` = the path as given.
 */
export function parseNvsCsvBytes(bytes: Uint8Array, source: string): NvsCsvRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new NvsInputError('CSV file is not valid UTF-8', { source });
  }
  return parseNvsCsv(text, { source });
}

/** Reads and parses one CSV file (path relative to `ctx.cwd`). */
export async function readNvsCsvFile(csvPath: string, ctx: NvsFileContext): Promise<NvsCsvRow[]> {
  return parseNvsCsvBytes(await readInputFile(resolve(ctx.cwd, csvPath)), csvPath);
}

/**
 * Image bytes for one or more CSV files (several files behave like upstream ≥ 0.1.5: each has its
 * own header, namespace state carries over). Throws NvsInputError for bad content (message names
 * the CSV file, line and key) and Node fs errors for unreadable CSV files.
 */
export async function generateImageFromCsvFiles(
  csvPaths: readonly string[],
  options: NvsFileGenerateOptions,
  ctx: NvsFileContext,
): Promise<Uint8Array> {
  const rows: NvsCsvRow[] = [];
  // One row at a time: spreading a 150 000-row file into push() overflows the call stack.
  for (const path of csvPaths) for (const row of await readNvsCsvFile(path, ctx)) rows.push(row);
  return generateNvsImageFromRows(rows, { ...options, readFile: fileRowReader(ctx.cwd) });
}

/** Image bytes for one CSV file; see generateImageFromCsvFiles. */
export function generateImageFromCsvFile(csvPath: string, options: NvsFileGenerateOptions, ctx: NvsFileContext): Promise<Uint8Array> {
  return generateImageFromCsvFiles([csvPath], options, ctx);
}
