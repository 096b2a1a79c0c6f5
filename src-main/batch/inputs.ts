// Reading and checking the batch's input files (config, values, key file) — all before anything
// is written. CSV splitting is csv-parse's; the rules are in shared/batch/custom-data.ts.
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { parse } from 'csv-parse/sync';
import { describeFsError, readInputFileSync } from '../fs/index.ts';
import { BatchError } from './errors.ts';
import { BatchInputError } from '../../shared/batch/errors.ts';
import { parseBatchConfig, parseBatchValues, type BatchConfig, type BatchValues, type CsvRecordAt } from '../../shared/batch/custom-data.ts';
import { buildUnit, type BatchUnitSpec } from '../../shared/batch/unit.ts';
import { NvsInputError } from '../../shared/nvs/errors.ts';
import { parseKeysFile, NvsKeysError, type NvsKeys } from '../../shared/nvs/keys.ts';

/** Reads a text input: strict UTF-8 (a UTF-8 byte order mark is dropped). */
export function readTextInput(path: string, cwd: string, what: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readInputFileSync(resolve(cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BatchError('input', `${path}: cannot read the ${what} (${code ? describeFsError(code) : 'error'})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BatchError('input', `${path}: the ${what} is not UTF-8 text`);
  }
}

/** CSV records with the line each starts on (blank lines kept, as records of one empty field). */
export function csvRecords(text: string, file: string): CsvRecordAt[] {
  if (text === '') return [];
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, { relax_column_count: true, info: true, skip_empty_lines: false, relax_quotes: true }) as unknown as typeof parsed;
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new BatchInputError({ file, ...(e.lines ? { line: e.lines } : {}) }, `not valid CSV: ${e.message.replace(/ at line \d+/, '')}`);
  }
  const out: CsvRecordAt[] = [];
  let previousEnd = 0;
  for (const { record, info } of parsed) {
    out.push({ line: previousEnd + 1, fields: record });
    previousEnd = info.lines;
  }
  return out;
}

export function loadConfig(file: string, text: string): BatchConfig {
  return parseBatchConfig(file, csvRecords(text, file));
}

export function loadValues(file: string, text: string, config: BatchConfig | undefined, fileid: string): BatchValues {
  const values = parseBatchValues(file, csvRecords(text, file), config, fileid);
  if (fileid !== 'setup_code' && fileid !== 'setup_id' && !values.header.includes(fileid)) {
    throw new BatchInputError({ file, line: 1 }, `--fileid ${fileid}: no such column (columns: ${values.header.join(', ')})`);
  }
  return values;
}

const DUMMY_IDENTITY = { index: 0, setupCode: '10293847', setupId: 'ZZZZ', salt: new Uint8Array(16) };

/**
 * Every values row must make a valid NVS image (value fits its encoding, integer in range, hex
 * even, `file` readable, everything fits the partition): built here once per row with a dummy
 * identity — the real identity has the same size — so a bad cell stops the batch before it starts.
 */
export function checkValuesBuild(spec: BatchUnitSpec, values: BatchValues, cwd: string): void {
  const readFile = (p: string) => readInputFileSync(resolve(cwd, p));
  for (const row of values.rows) {
    try {
      buildUnit(spec, DUMMY_IDENTITY, row.fields, { readFile });
    } catch (err) {
      if (err instanceof NvsInputError) {
        const column = err.key !== undefined && values.header.includes(err.key) ? err.key : undefined;
        throw new BatchInputError({ file: values.file, line: row.line, ...(column ? { column } : {}) }, err.detail);
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code && e.path) throw new BatchInputError({ file: values.file, line: row.line }, `cannot read file ${e.path} (${e.code})`);
      throw err;
    }
  }
}

/** --keyfile: one key for every accessory. */
export function loadKeyFile(path: string, cwd: string): { keys: NvsKeys; sha256: string } {
  let bytes: Uint8Array;
  try {
    bytes = readInputFileSync(resolve(cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BatchError('input', `--keyfile ${path}: cannot read it (${code ? describeFsError(code) : 'error'})`);
  }
  try {
    return { keys: parseKeysFile(new Uint8Array(bytes)), sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (err) {
    if (err instanceof NvsKeysError) throw new BatchError('input', `--keyfile ${path}: ${err.message}`);
    throw err;
  }
}
