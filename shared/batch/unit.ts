// Everything one accessory of a batch gets, computed from its identity (setup code, setup ID,
// salt) and its values row — pure and deterministic, so a resumed run rebuilds byte-identical
// files for an identity the journal already holds. Runs in the worker threads.
//
// Formats (hk_mfg_gen.py, spec homekit-setup.md §9, vectors mfg/*):
// * NVS CSV: `key,type,encoding,value` header, the config's lines with their values, namespace
//   lines as `name,namespace,,`, then the `hap_setup` keys; Python csv.writer style (CRLF).
// * `.txt`: `Setup Code: DDD-DD-DDD` LF `Setup Payload: X-HM://…` LF (+ `Serial Number: …` LF).
// * values master row: the values row + setup_id, DDD-DD-DDD, salt, verifier, payload, product data
//   (+ serial_number).
// With serial numbers (`--serials`), each accessory's number is a string row in the namespace and
// key its product's profile names: in that namespace's block of the config when it declares it,
// else as a namespace of its own before hap_setup (as the station's factory image does).
import { computeVerifier } from '../homekit/srp.ts';
import { buildSetupPayload, type SetupPayloadFlags } from '../homekit/payload.ts';
import { formatSetupCode } from '../homekit/setup-code.ts';
import { generateNvsImageFromRows, type NvsCsvRow } from '../nvs/writer.ts';
import { HAP_SETUP_NAMESPACE, type BatchConfigLine } from './custom-data.ts';
import { pythonCsvRow } from './python-csv.ts';

/** What is the same for every accessory of a batch (sent to each worker once). */
export interface BatchUnitSpec {
  /** Config lines (custom-data mode); undefined for HomeKit-only batches. */
  configLines?: BatchConfigLine[];
  declaresHapSetup?: boolean;
  /** Values header (custom-data mode). */
  valuesHeader?: string[];
  /** The first values row: source of REPEAT items. */
  firstRow?: string[];
  category: number;
  /** 16 hex digits, as given (`--product_data`). */
  productData?: string;
  payloadFlags: SetupPayloadFlags;
  /** Partition size in bytes and NVS format version. */
  size: number;
  version: 1 | 2;
  /** Where each accessory's serial number goes (batches with serial numbers). */
  serialNvs?: { namespace: string; key: string };
}

/** The secret part of one accessory: what the journal records before any file is written. */
export interface BatchIdentity {
  /** Position in the batch (0-based; values row index in custom-data mode). */
  index: number;
  /** 8 digits, no hyphens. */
  setupCode: string;
  setupId: string;
  /** 16 bytes. */
  salt: Uint8Array;
  /** Its serial number (batches with serial numbers). */
  serial?: string;
}

export interface BuiltUnit {
  csvText: string;
  /** NVS image, encrypted when keys were given. */
  image: Uint8Array;
  txtText: string;
  payload: string;
  saltHex: string;
  verifierHex: string;
}

export function buildUnit(
  spec: BatchUnitSpec,
  identity: BatchIdentity,
  row: readonly string[] | undefined,
  options: {
    /** Applied to the finished image, e.g. NVS encryption with the accessory's keys (passed in, so
     *  the AES code — slow to load — loads only for batches that encrypt). */
    encrypt?: (image: Uint8Array) => Uint8Array;
    readFile?: (path: string) => Uint8Array;
  } = {},
): BuiltUnit {
  const verifier = computeVerifier(identity.setupCode, identity.salt);
  const saltHex = toHex(identity.salt);
  const verifierHex = toHex(verifier);
  const payload = buildSetupPayload({
    category: spec.category,
    setupCode: identity.setupCode,
    setupId: identity.setupId,
    flags: spec.payloadFlags,
    ...(spec.productData !== undefined ? { productData: spec.productData } : {}),
  });
  const fields = unitNvsFields(spec, row, { setupId: identity.setupId, saltHex, verifierHex, serial: identity.serial });
  const csvText = fieldsToCsv(fields);
  // The image is built from the very rows the CSV holds (parsing the text back gives the same rows).
  let image = generateNvsImageFromRows(fieldsToRows(fields), {
    size: spec.size,
    version: spec.version,
    layout: 'homekit',
    ...(options.readFile ? { readFile: options.readFile } : {}),
  });
  if (options.encrypt) image = options.encrypt(image);
  return { csvText, image, txtText: setupInfoText(identity.setupCode, payload, identity.serial), payload, saltHex, verifierHex };
}

type CsvFields = [key: string, type: string, encoding: string, value: string];

/** The per-accessory NVS CSV (see the file comment). */
type UnitSetupFields = { setupId: string; saltHex: string; verifierHex: string; serial?: string | undefined };

export function unitNvsCsv(
  spec: Pick<BatchUnitSpec, 'configLines' | 'declaresHapSetup' | 'valuesHeader' | 'firstRow' | 'serialNvs'>,
  row: readonly string[] | undefined,
  setup: UnitSetupFields,
): string {
  return fieldsToCsv(unitNvsFields(spec, row, setup));
}

function unitNvsFields(
  spec: Pick<BatchUnitSpec, 'configLines' | 'declaresHapSetup' | 'valuesHeader' | 'firstRow' | 'serialNvs'>,
  row: readonly string[] | undefined,
  setup: UnitSetupFields,
): CsvFields[] {
  const out: CsvFields[] = [];
  const header = spec.valuesHeader ?? [];
  for (const l of spec.configLines ?? []) {
    if (l.type === 'namespace') {
      out.push([l.key, 'namespace', '', '']);
      continue;
    }
    const column = header.indexOf(l.key);
    const source = l.repeat ? spec.firstRow : row;
    const value = column < 0 || !source ? undefined : source[column];
    if (value === undefined) throw new Error(`no value for config key ${l.key}`); // validated earlier
    out.push([l.key, l.type, l.encoding, value]);
  }
  if (!spec.declaresHapSetup) out.push([HAP_SETUP_NAMESPACE, 'namespace', '', '']);
  if (spec.serialNvs && setup.serial !== undefined) addSerial(out, spec.serialNvs, setup.serial);
  out.push(['setup_id', 'data', 'binary', setup.setupId]);
  out.push(['setup_salt', 'data', 'hex2bin', setup.saltHex]);
  out.push(['setup_verifier', 'data', 'hex2bin', setup.verifierHex]);
  return out;
}

/** The serial row: in its namespace's block, else a namespace of its own before hap_setup (or, for hap_setup, last). */
function addSerial(out: CsvFields[], at: { namespace: string; key: string }, serial: string): void {
  const row: CsvFields = [at.key, 'data', 'string', serial];
  const hap = out.findIndex((f) => f[1] === 'namespace' && f[0] === HAP_SETUP_NAMESPACE);
  if (at.namespace === HAP_SETUP_NAMESPACE) return void out.push(row);
  const own = out.findIndex((f) => f[1] === 'namespace' && f[0] === at.namespace);
  if (own >= 0) return void out.splice(own + 1, 0, row);
  out.splice(hap, 0, [at.namespace, 'namespace', '', ''], row);
}

function fieldsToCsv(rows: readonly CsvFields[]): string {
  let text = pythonCsvRow(['key', 'type', 'encoding', 'value']);
  for (const r of rows) text += pythonCsvRow(r);
  return text;
}

/** Rows as parseNvsCsv returns them for the CSV text (csv.DictReader: empty fields stay ''). */
function fieldsToRows(rows: readonly CsvFields[]): NvsCsvRow[] {
  let line = 2;
  return rows.map(([key, type, encoding, value]) => {
    const r: NvsCsvRow = { line, key, type, encoding, value };
    line += 1 + (value.match(/\r\n|\r|\n/g)?.length ?? 0);
    return r;
  });
}

/** `homekit_setup_info/<name>.txt`. Contains the setup code: a secret file. */
export function setupInfoText(setupCode: string, payload: string, serial?: string): string {
  return `Setup Code: ${formatSetupCode(setupCode)}\nSetup Payload: ${payload}\n${serial !== undefined ? `Serial Number: ${serial}\n` : ''}`;
}

/** The values-master fields appended to a row (GENERATED_COLUMNS order, then serial_number when given). */
export function generatedFields(
  identity: Pick<BatchIdentity, 'setupCode' | 'setupId' | 'serial'>,
  built: Pick<BuiltUnit, 'saltHex' | 'verifierHex' | 'payload'>,
  productData: string | undefined,
): string[] {
  const fields = [identity.setupId, formatSetupCode(identity.setupCode), built.saltHex, built.verifierHex, built.payload, productData ?? ''];
  return identity.serial !== undefined ? [...fields, identity.serial] : fields;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b]!;
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('invalid hex string');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * The file-name suffix of an accessory (`--fileid`): its setup code as DDD-DD-DDD (default, as
 * hk_mfg_gen.py), its setup ID, or the value of a values column.
 */
export function unitFileId(
  fileid: string,
  identity: Pick<BatchIdentity, 'setupCode' | 'setupId'>,
  valuesHeader: readonly string[] | undefined,
  row: readonly string[] | undefined,
): string {
  const column = valuesHeader?.indexOf(fileid) ?? -1;
  if (column >= 0 && row) return row[column]!;
  if (fileid === 'setup_code') return formatSetupCode(identity.setupCode);
  if (fileid === 'setup_id') return identity.setupId;
  throw new Error(`--fileid ${fileid} is not a values column`);
}
