// The NVS CSV that factory_nvs_gen.py writes (spec homekit-setup.md §4), byte for byte:
//
//   key,type,encoding,value
//   hap_setup,namespace,,
//   setup_id,data,binary,<ID>
//   setup_salt,data,hex2bin,<32 lower-case hex digits>
//   setup_verifier,data,hex2bin,<768 lower-case hex digits>      (no final newline)
//
// With a custom CSV (`--infile`) its text replaces the header line (copied as Python's text mode
// copies it: `\r\n` and `\r` become `\n`), the namespace line is appended only when no line reads
// exactly `hap_setup,namespace,,`, and the three keys always come last.
// Deliberate fix (quirk q2): a custom text without a final newline gets one, so the appended lines
// never glue onto its last value.
// The station adds the unit's serial number (a string, in the namespace and key its profile
// chooses): in that namespace's block of the custom data when it declares it, else as a namespace
// of its own just before `hap_setup` (which must stay last). factory-nvs-gen has no serial.
import { SetupDataError } from './setup-code.ts';
import { parseNvsCsv } from '../nvs/csv.ts';
import { NvsInputError } from '../nvs/errors.ts';
import { checkNvsRows, type NvsLayout } from '../nvs/writer.ts';
import { parseSetupId } from './setup-id.ts';
import { SRP_SALT_LENGTH, SRP_VERIFIER_LENGTH } from './srp.ts';

export const HAP_SETUP_NAMESPACE = 'hap_setup';
/** The unit's HomeKit identity in `hap_setup`: written by the station / factory-nvs-gen only. */
export const IDENTITY_KEYS: readonly string[] = ['setup_id', 'setup_salt', 'setup_verifier'];
/** Never custom data in `hap_setup`: the identity, and the setup code (never stored on a device). */
const RESERVED_SETUP_KEYS = new Set([...IDENTITY_KEYS, 'setup_code']);
const CSV_HEADER = 'key,type,encoding,value\n';
const NAMESPACE_LINE = 'hap_setup,namespace,,';

export interface FactoryCsvInput {
  /** 4 characters 0-9/A-Z (validated: the CSV writer does no quoting). */
  setupId: string;
  /** Exactly 16 bytes. */
  salt: Uint8Array;
  /** Exactly 384 bytes. */
  verifier: Uint8Array;
  /** Text of the `--infile` custom-data CSV, if any. */
  customCsv?: string;
  /** The unit's serial number and where it goes (checked: letters, digits, . _ / - and space). */
  serial?: FactoryString;
}

/** A string row the station adds to a unit's factory NVS. */
export interface FactoryString {
  namespace: string;
  key: string;
  value: string;
}

export function buildFactoryCsv(input: FactoryCsvInput): string {
  const setupId = parseSetupId(input.setupId);
  if (input.salt.length !== SRP_SALT_LENGTH) throw new SetupDataError(`setup salt must be ${SRP_SALT_LENGTH} bytes (got ${input.salt.length})`);
  if (input.verifier.length !== SRP_VERIFIER_LENGTH) {
    throw new SetupDataError(`setup verifier must be ${SRP_VERIFIER_LENGTH} bytes (got ${input.verifier.length})`);
  }
  let text = CSV_HEADER;
  if (input.customCsv !== undefined) {
    text = input.customCsv.replace(/\r\n?/g, '\n');
    if (text !== '' && !text.endsWith('\n')) text += '\n';
  }
  if (input.serial) text = withString(text, input.serial);
  if (!declaresHapSetupNamespace(text)) text += `${NAMESPACE_LINE}\n`;
  const hapRow = input.serial?.namespace === HAP_SETUP_NAMESPACE ? stringLine(input.serial) : '';
  return (
    text +
    hapRow +
    `setup_id,data,binary,${setupId}\n` +
    `setup_salt,data,hex2bin,${toHex(input.salt)}\n` +
    `setup_verifier,data,hex2bin,${toHex(input.verifier)}`
  );
}

function stringLine(s: FactoryString): string {
  if (!/^[A-Za-z0-9._/ -]{1,64}$/.test(s.value) || !/^[A-Za-z0-9_]{1,15}$/.test(s.key) || !/^[A-Za-z0-9_]{1,15}$/.test(s.namespace)) {
    throw new SetupDataError(`${s.namespace}/${s.key}: value or name not writable as a factory string`);
  }
  return `${s.key},data,string,${s.value}\n`;
}

/**
 * `text` (custom data, newline-terminated) with the string row added: after its namespace's
 * declaration when the text has one, else as a namespace of its own before `hap_setup` (or at the
 * end). hap_setup rows are added with the identity (buildFactoryCsv).
 */
function withString(text: string, s: FactoryString): string {
  const line = stringLine(s);
  if (s.namespace === HAP_SETUP_NAMESPACE) return text;
  const lines = text.split('\n');
  const rows = parseNvsCsv(text);
  const own = rows.find((r) => r.type === 'namespace' && r.key === s.namespace);
  if (own) {
    lines.splice(own.line, 0, line.slice(0, -1));
    return lines.join('\n');
  }
  const hap = rows.find((r) => r.type === 'namespace' && r.key === HAP_SETUP_NAMESPACE);
  const block = `${s.namespace},namespace,,\n${line}`;
  if (!hap) return text + block;
  lines.splice(hap.line - 1, 0, block.slice(0, -1));
  return lines.join('\n');
}

/**
 * Whether some record of `text`, read the way the reference reads it (Python `csv.reader` with
 * `delimiter='\n'`: one field per line, double quotes still honoured), is exactly
 * `hap_setup,namespace,,`. So `"hap_setup,namespace,,"` counts, `hap_setup,namespace,, ` does not.
 */
export function declaresHapSetupNamespace(text: string): boolean {
  return lineFields(text).includes(NAMESPACE_LINE);
}

/** CPython's csv state machine specialised to delimiter = newline (non-strict, doublequote). */
function lineFields(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let state: 'start' | 'unquoted' | 'quoted' | 'quoteInQuoted' = 'start';
  const endRecord = () => {
    if (state !== 'start' || field !== '') fields.push(field);
    field = '';
    state = 'start';
  };
  for (const c of text) {
    switch (state) {
      case 'start':
        if (c === '\n') endRecord();
        else if (c === '"') state = 'quoted';
        else { field += c; state = 'unquoted'; }
        break;
      case 'unquoted':
        if (c === '\n') endRecord();
        else field += c;
        break;
      case 'quoted':
        if (c === '"') state = 'quoteInQuoted';
        else field += c; // newlines inside quotes belong to the field
        break;
      case 'quoteInQuoted':
        if (c === '"') { field += '"'; state = 'quoted'; }
        else if (c === '\n') endRecord();
        else { field += c; state = 'unquoted'; }
        break;
    }
  }
  if (state !== 'start' || field !== '') fields.push(field);
  return fields;
}

function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Checks custom data (a profile's customData.csv, `--infile`) before it is merged with a unit's
 * identity, so that it can never override or displace it. Refused, naming `source`, line and key:
 * a row writing an identity key (or the setup code) in `hap_setup`; a namespace after `hap_setup`
 * (the identity keys are appended to the last namespace: they would land in that one); a
 * `hap_setup` declaration not written exactly `hap_setup,namespace,,` (a second one would be
 * added); and what the strict writer refuses in any CSV (a key twice in one namespace, a namespace
 * declared again, a row before any namespace, an empty key, an unterminated quote).
 */
export function checkFactoryCustomData(customCsv: string, source: string, layout: NvsLayout = 'homekit', serialKey?: { namespace: string; key: string }): void {
  const text = customCsv.replace(/\r\n?/g, '\n');
  const rows = parseNvsCsv(text, { source });
  let namespace: string | undefined;
  let hapSetupLine: number | undefined;
  for (const row of rows) {
    const where = { line: row.line, key: row.key, source };
    if (row.type === 'namespace') {
      if (hapSetupLine !== undefined && row.key !== HAP_SETUP_NAMESPACE) {
        throw new NvsInputError(`namespace \`${row.key}\` comes after \`${HAP_SETUP_NAMESPACE}\` (line ${hapSetupLine}): the HomeKit identity keys are appended to the last namespace, so \`${HAP_SETUP_NAMESPACE}\` must be the last one`, where);
      }
      if (row.key === HAP_SETUP_NAMESPACE) hapSetupLine ??= row.line;
      namespace = row.key;
      continue;
    }
    if (namespace === HAP_SETUP_NAMESPACE && RESERVED_SETUP_KEYS.has(row.key)) {
      throw new NvsInputError(`\`${row.key}\` in namespace \`${HAP_SETUP_NAMESPACE}\` is the unit's HomeKit identity, which the station writes itself: custom data must not set it`, where);
    }
    if (serialKey && namespace === serialKey.namespace && row.key === serialKey.key) {
      throw new NvsInputError(`\`${row.key}\` in namespace \`${namespace}\` is the unit's serial number (profile "serial.nvs"), which the station writes itself: custom data must not set it`, where);
    }
  }
  checkNvsRows(rows, layout);
  if (hapSetupLine !== undefined && !declaresHapSetupNamespace(text)) {
    throw new NvsInputError(`declare the namespace exactly as \`${NAMESPACE_LINE}\` (otherwise a second \`${HAP_SETUP_NAMESPACE}\` would be added for the identity keys)`, { line: hapSetupLine, key: HAP_SETUP_NAMESPACE, source });
  }
}
