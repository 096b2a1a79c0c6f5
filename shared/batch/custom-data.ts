// Custom per-accessory data of a batch (hk_mfg_gen.py `--conf` / `--values`, spec homekit-setup.md §9):
//
// * config file: one `key,type,encoding` line per NVS item, no header, first line a namespace
//   (`app,namespace,`); a 4th field `REPEAT` makes every accessory take the first row's value.
// * values file: a header row of column names, then one row per accessory. Columns named like a
//   config key fill that item; any other column is kept as metadata (it still goes to the values
//   master and may serve as `--fileid`).
//
// Stricter than the reference, on purpose: every problem is found before anything is written and
// is reported with file, line and column (the reference prints a message and carries on, or leaves
// half a batch behind). Records come already split into fields (any CSV reader), with line numbers.
import { BatchInputError } from './errors.ts';

export interface CsvRecordAt {
  /** 1-based line where the record starts. */
  line: number;
  fields: string[];
}

/** Encodings the HomeKit SDK's bundled NVS generator accepts in custom data (spec §4). */
export const CUSTOM_DATA_ENCODINGS: readonly string[] = ['u8', 'i8', 'u16', 'u32', 'i32', 'string', 'binary', 'hex2bin', 'base64'];
const ITEM_TYPES = new Set(['data', 'file', 'namespace']);

/** Columns the batch appends to the values master, in this order (reference order). */
export const GENERATED_COLUMNS: readonly string[] = ['setup_id', 'setup_code', 'setup_salt', 'setup_verifier', 'setup_payload', 'product_data'];
/** Appended after GENERATED_COLUMNS when the batch issues serial numbers (`--serials`). */
export const SERIAL_COLUMN = 'serial_number';
const RESERVED_KEYS = new Set([...GENERATED_COLUMNS, SERIAL_COLUMN, 'hap_setup']);

export const HAP_SETUP_NAMESPACE = 'hap_setup';
/** NVS key and namespace names are at most 15 bytes. */
const MAX_KEY_BYTES = 15;

export interface BatchConfigLine {
  line: number;
  key: string;
  type: 'namespace' | 'data' | 'file';
  /** Empty for namespaces. */
  encoding: string;
  /** `REPEAT`: every accessory gets the value of the first values row. */
  repeat: boolean;
}

/** A validated config file (what workers need to build each accessory's CSV). */
export interface BatchConfig {
  /** File name as given (for messages and the master file name). */
  file: string;
  lines: BatchConfigLine[];
  /** The file declares `hap_setup` itself (then it is its last namespace and no line is added). */
  declaresHapSetup: boolean;
}

export function parseBatchConfig(file: string, records: readonly CsvRecordAt[]): BatchConfig {
  if (records.length === 0) throw new BatchInputError({ file }, 'the config file is empty; it needs `key,type,encoding` lines, the first one a namespace (e.g. `app,namespace,`)');
  const lines: BatchConfigLine[] = [];
  const seen = new Map<string, number>();
  const namespaces = new Map<string, number>();
  let lastNamespace: string | undefined;
  let hapSetupLine: number | undefined;
  for (const { line, fields } of records) {
    if (fields.every((f) => f.trim() === '')) throw new BatchInputError({ file, line }, 'empty line; remove it (every line must be `key,type,encoding`)');
    const repeat = fields.length === 4 && fields[3] === 'REPEAT';
    if (fields.length !== 3 && !repeat) {
      throw new BatchInputError({ file, line }, `expected 3 fields \`key,type,encoding\` (optionally a 4th \`REPEAT\`), found ${fields.length}`);
    }
    const [key, type, encoding] = fields as [string, string, string];
    if (key === '') throw new BatchInputError({ file, line }, 'the key (first field) is empty');
    // The NVS generator would read such a line of the accessory's CSV as a comment.
    if (key.startsWith('#')) throw new BatchInputError({ file, line, column: key }, 'keys must not start with #');
    if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) {
      throw new BatchInputError({ file, line, column: key }, `NVS keys and namespace names are at most ${MAX_KEY_BYTES} bytes long`);
    }
    if (!ITEM_TYPES.has(type)) {
      throw new BatchInputError({ file, line, column: key }, `type must be data, file or namespace (found ${JSON.stringify(type)})`);
    }
    if (type === 'namespace') {
      if (repeat) throw new BatchInputError({ file, line, column: key }, 'REPEAT applies to data items, not to namespaces');
      // Declared again, a namespace would be a second one of the same name (the keys after it, the
      // HomeKit identity included for hap_setup, would land where the device does not look).
      const first = namespaces.get(key);
      if (first !== undefined) throw new BatchInputError({ file, line, column: key }, `namespace declared again (first on line ${first}): declare each namespace once`);
      namespaces.set(key, line);
      if (key === HAP_SETUP_NAMESPACE) hapSetupLine = line;
      else if (hapSetupLine !== undefined) {
        throw new BatchInputError({ file, line, column: key }, `namespace \`${HAP_SETUP_NAMESPACE}\` (line ${hapSetupLine}) must be the last namespace: the HomeKit setup keys are appended to it`);
      }
      lastNamespace = key;
      lines.push({ line, key, type, encoding: '', repeat: false });
      continue;
    }
    if (lastNamespace === undefined) {
      throw new BatchInputError({ file, line, column: key }, 'the first line must declare a namespace (e.g. `app,namespace,`)');
    }
    if (RESERVED_KEYS.has(key)) {
      throw new BatchInputError({ file, line, column: key }, `\`${key}\` is reserved: the batch generates the HomeKit setup data itself`);
    }
    if (!CUSTOM_DATA_ENCODINGS.includes(encoding)) {
      throw new BatchInputError({ file, line, column: key }, `encoding must be one of ${CUSTOM_DATA_ENCODINGS.join(', ')} (found ${JSON.stringify(encoding)})`);
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new BatchInputError({ file, line, column: key }, `key also defined on line ${earlier}; a values column can fill only one item`);
    }
    seen.set(key, line);
    lines.push({ line, key, type: type as 'data' | 'file', encoding, repeat });
  }
  return { file, lines, declaresHapSetup: hapSetupLine !== undefined };
}

/** Config data keys (the columns the values file must have). */
export function configDataKeys(config: BatchConfig): string[] {
  return config.lines.filter((l) => l.type !== 'namespace').map((l) => l.key);
}

/** A validated values file. */
export interface BatchValues {
  file: string;
  header: string[];
  /** One per accessory, each with exactly `header.length` fields. */
  rows: CsvRecordAt[];
}

/**
 * Validates the values file on its own and against the config: header names present, unique and
 * not clashing with the generated columns; every config key has a column; every row has one value
 * per column; the `fileid` column (when it comes from this file) has distinct, file-name-safe values.
 */
export function parseBatchValues(file: string, records: readonly CsvRecordAt[], config: BatchConfig | undefined, fileid: string): BatchValues {
  if (records.length === 0) throw new BatchInputError({ file }, 'the values file is empty; it needs a header row and one row per accessory');
  const [headerRecord, ...rowRecords] = records as [CsvRecordAt, ...CsvRecordAt[]];
  const header = headerRecord.fields;
  const columnIndex = new Map<string, number>();
  header.forEach((name, i) => {
    const at = { file, line: headerRecord.line, column: name };
    if (name.trim() === '') throw new BatchInputError({ file, line: headerRecord.line }, `column ${i + 1} of the header has no name`);
    if (GENERATED_COLUMNS.includes(name) || name === SERIAL_COLUMN) throw new BatchInputError(at, 'this column is generated by the batch; remove it from the values file');
    if (columnIndex.has(name)) throw new BatchInputError(at, `column name appears twice in the header (columns ${columnIndex.get(name)! + 1} and ${i + 1})`);
    columnIndex.set(name, i);
  });
  if (config) {
    for (const l of config.lines) {
      if (l.type !== 'namespace' && !columnIndex.has(l.key)) {
        throw new BatchInputError({ file, line: headerRecord.line, column: l.key }, `missing column: ${config.file} line ${l.line} defines key \`${l.key}\`, so the values file needs a column with that name`);
      }
    }
  }
  const rows: CsvRecordAt[] = [];
  for (const rec of rowRecords) {
    if (rec.fields.every((f) => f.trim() === '')) throw new BatchInputError({ file, line: rec.line }, 'empty line; remove it (every row is one accessory)');
    if (rec.fields.length !== header.length) {
      throw new BatchInputError({ file, line: rec.line }, `${rec.fields.length} values for ${header.length} columns (${header.join(',')})`);
    }
    rows.push(rec);
  }
  if (rows.length === 0) throw new BatchInputError({ file }, 'the values file has a header but no rows; add one row per accessory');
  const fileidIndex = columnIndex.get(fileid);
  if (fileidIndex !== undefined) {
    // Keyed without case (and Unicode normalization): macOS and Windows file systems see `abc1`
    // and `ABC1` as one file, so one accessory's files would overwrite another's there.
    const firstLine = new Map<string, { line: number; value: string }>();
    for (const rec of rows) {
      const value = rec.fields[fileidIndex]!;
      const at = { file, line: rec.line, column: fileid };
      const problem = fileNamePartProblem(value);
      if (problem) throw new BatchInputError(at, `${problem} (this column names the output files, --fileid)`);
      const key = value.normalize('NFC').toUpperCase().toLowerCase();
      const earlier = firstLine.get(key);
      if (earlier !== undefined && earlier.value === value) {
        throw new BatchInputError(at, `duplicate value ${JSON.stringify(value)} (also on line ${earlier.line}); --fileid values name the output files and must be unique`);
      }
      if (earlier !== undefined) {
        throw new BatchInputError(at, `${JSON.stringify(value)} and ${JSON.stringify(earlier.value)} (line ${earlier.line}) differ only in case: --fileid values name the output files, which would overwrite each other on macOS and Windows`);
      }
      firstLine.set(key, { line: rec.line, value });
    }
  }
  return { file, header, rows };
}

/** Why `text` cannot be part of a file name (prefix or file id), or undefined. */
export function fileNamePartProblem(text: string): string | undefined {
  if (text === '') return 'empty value';
  if (/[/\\]/.test(text)) return 'contains a path separator';
  if (text === '.' || text === '..') return 'is not a file name';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'contains a control character';
  if (/[<>:"|?*]/.test(text)) return 'contains a character not allowed in file names (<>:"|?*)';
  return undefined;
}

/**
 * The master config file (`homekit_<conf>` or `homekit_config_<stamp>.csv`): the input config
 * verbatim, a newline added if it had none (the reference glues the next line onto it), then the
 * `hap_setup` namespace line unless the config declares it, then the three setup keys.
 */
export function masterConfigText(configText: string | undefined, declaresHapSetup: boolean): string {
  let text = configText ?? '';
  if (text !== '' && !text.endsWith('\n')) text += '\n';
  if (!declaresHapSetup) text += `${HAP_SETUP_NAMESPACE},namespace,\n`;
  return text + 'setup_id,data,binary\nsetup_salt,data,hex2bin\nsetup_verifier,data,hex2bin\n';
}
