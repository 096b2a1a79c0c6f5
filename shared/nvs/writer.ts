// NVS partition image writer: CSV rows -> image bytes, byte-identical to Espressif's
// nvs_partition_gen.py (spec shared/spec/nvs-format.md). Row semantics live here (namespaces,
// encodings, file rows, the upstream Wi-Fi key quirk); slot placement lives in pages.ts.
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { parseNvsCsv, type NvsCsvRow } from './csv.ts';
import { NvsInputError, type NvsErrorLocation } from './errors.ts';
import { INTEGER_TYPES, ItemType, NVS_MAX_KEY_LENGTH, type IntegerEncoding } from './format.ts';
import { NvsImageBuilder, type NvsLayout } from './pages.ts';
import { decodeBase64Lenient, decodeHex, latin1, parsePyInt10, pyStrip, asciiStrip } from './values.ts';

export type { NvsCsvRow } from './csv.ts';
export type { NvsLayout } from './pages.ts';
export { NvsInputError } from './errors.ts';
export { parseNvsCsv } from './csv.ts';

export interface NvsGenerateOptions {
  /** Partition size in bytes (multiple of 4096). */
  size: number;
  /** NVS format version: 2 = multipage blobs (default of the reference tool), 1 = single-page blobs. */
  version: 1 | 2;
  /** Page layout of the generator to reproduce; default 'upstream'. */
  layout?: NvsLayout;
  /** Reads the file named by a `file` row's value (shared/ cannot do I/O). */
  readFile?: (path: string) => Uint8Array;
  /**
   * Refuse rows that make an image the inspector (shared/nvs/reader.ts) rejects or that do not
   * mean what they seem to (default true): an empty key, a data row before any namespace, a
   * namespace declared a second time, a key written twice in one namespace. The reference
   * generators accept these (see README, "where we do better"); `false` reproduces their bytes,
   * for the golden-vector tests only.
   */
  strict?: boolean;
}

/** Parse CSV text (one file) and build the image. */
export function generateNvsImage(csvText: string, options: NvsGenerateOptions): Uint8Array {
  return generateNvsImageFromRows(parseNvsCsv(csvText), options);
}

/** Build the image from parsed rows (several CSV files: concatenate their rows; namespace state carries over). */
export function generateNvsImageFromRows(rows: readonly NvsCsvRow[], options: NvsGenerateOptions): Uint8Array {
  const layout = options.layout ?? 'upstream';
  if (options.version !== 1 && options.version !== 2) throw new NvsInputError(`version must be 1 or 2 (got ${String(options.version)})`);
  const state = new WriterState(new NvsImageBuilder(options.size, options.version, layout), layout, options.readFile, options.strict ?? true);
  for (const row of rows) state.writeRow(row);
  return state.builder.finish();
}

/** A value after the encoding step: text still to be UTF-8 encoded, or bytes. */
type Converted = { text: string } | { bytes: Uint8Array };

const PRIMITIVES = new Set<string>(Object.keys(INTEGER_TYPES));
const VARLEN = new Set(['string', 'binary', 'hex2bin', 'base64']);
const WIFI_STA_KEYS = new Set(['sta.ssid', 'sta.pswd']);
const WIFI_AP_KEYS = new Set(['ap.ssid', 'ap.passwd', 'ap.authmode']);

class WriterState {
  /** Namespaces created so far; data rows use the index of the most recent one. */
  private namespaceCount = 0;
  private readonly namespaces = new Map<string, number>();
  private staExtrasWritten = false;
  private readonly ap: { ssid?: string; passwd?: string; authmode?: string } = {};
  /** Behaviour that differs between the reference generators (spec §13), beyond page layout. */
  private readonly upstream: boolean;
  private readonly checker: StrictRowChecker | undefined;

  constructor(
    readonly builder: NvsImageBuilder,
    layout: NvsLayout,
    private readonly readFile?: (path: string) => Uint8Array,
    strict = true,
  ) {
    this.upstream = layout === 'upstream';
    if (strict) this.checker = new StrictRowChecker(layout);
  }

  writeRow(row: NvsCsvRow): void {
    const where: NvsErrorLocation = { line: row.line, key: row.key, source: row.source };
    const keyBytes = new TextEncoder().encode(row.key).length;
    if (row.key.length > NVS_MAX_KEY_LENGTH || keyBytes > NVS_MAX_KEY_LENGTH) {
      throw new NvsInputError(`key is ${keyBytes > row.key.length ? `${keyBytes} bytes` : `${row.key.length} characters`} long; NVS keys and namespace names are at most ${NVS_MAX_KEY_LENGTH}`, where);
    }
    this.checker?.check(row, where);
    if (this.upstream && this.writeWifiRow(row, where)) return;
    if (row.type === 'namespace') {
      this.writeNamespace(row.key, where);
      return;
    }
    let value: string | Uint8Array | undefined = row.value;
    if (row.type === 'file') value = this.readFileValue(row, where);
    this.writeEntry(row.key, value, row.encoding, where);
  }

  /**
   * Upstream ≥ 0.1.9 hard-wires a few ESP Wi-Fi keys (spec §9). Returns true when the row itself
   * has been written here.
   */
  private writeWifiRow(row: NvsCsvRow, where: NvsErrorLocation): boolean {
    if (WIFI_AP_KEYS.has(row.key)) {
      if (row.key === 'ap.ssid') this.ap.ssid = row.value;
      if (row.key === 'ap.passwd') this.ap.passwd = row.value;
      if (row.key === 'ap.authmode' && row.value !== '0') this.ap.authmode = row.value;
      const { ssid, passwd, authmode } = this.ap;
      if (ssid && passwd && authmode) {
        const enc = new TextEncoder();
        const pmk = pbkdf2(sha1, enc.encode(passwd), enc.encode(ssid), { c: 4096, dkLen: 32 });
        const info = new Uint8Array(100 + 32);
        info.set(pmk, 100);
        this.writeBlob('ap.pmk_info', info, where);
      }
      return false;
    }
    if (!WIFI_STA_KEYS.has(row.key)) return false;
    // The reference writes these rows as data whatever their type column says.
    this.writeEntry(row.key, row.value, row.encoding, where);
    if (!this.staExtrasWritten) {
      this.writeBlob('sta.apinfo', new Uint8Array(140).fill(0xff), where);
      this.writeBlob('sta.pmk', new Uint8Array(32), where);
      this.writeBlob('sta.apsw', new Uint8Array(2), where);
      this.staExtrasWritten = true;
    }
    return true;
  }

  private writeBlob(key: string, bytes: Uint8Array, where: NvsErrorLocation): void {
    this.builder.writeVariable(this.namespaceCount, 'blob', key, bytes, where);
  }

  private writeNamespace(name: string, where: NvsErrorLocation): void {
    // Upstream ≥ 0.1.4 writes a namespace once; later rows keep using the most recently *created*
    // index even after a re-declaration. The legacy generators create a new namespace every time.
    if (this.upstream && this.namespaces.has(name)) return;
    if (this.namespaceCount >= 255) throw new NvsInputError('too many namespaces (at most 255)', where);
    this.namespaceCount++;
    this.namespaces.set(name, this.namespaceCount);
    this.builder.writeFixed(0, ItemType.U8, name, Uint8Array.of(this.namespaceCount), where);
  }

  private readFileValue(row: NvsCsvRow, where: NvsErrorLocation): Uint8Array {
    if (row.value === undefined) throw new NvsInputError('file row has no value (file path)', where);
    if (!this.readFile) throw new NvsInputError(`cannot read file '${row.value}': no file access was provided`, where);
    try {
      return this.readFile(row.value);
    } catch (err) {
      throw new NvsInputError(`cannot read file '${row.value}': ${(err as Error).message ?? String(err)}`, where);
    }
  }

  /** Encoding conversion then item type choice, in the reference's order (spec §9). */
  private writeEntry(key: string, value: string | Uint8Array | undefined, encoding: string | undefined, where: NvsErrorLocation): void {
    if (encoding === undefined) throw new NvsInputError('row has no encoding', where);
    let enc = encoding;
    const isFill = this.upstream && (enc.startsWith('blob_fill') || enc.startsWith('blob_sz_fill'));
    if (value === undefined && !isFill) throw new NvsInputError(`row has no value (encoding ${encoding})`, where);
    let converted: Converted = typeof value === 'string' ? { text: value } : { bytes: value ?? new Uint8Array(0) };
    if (isFill) {
      converted = { bytes: blobFill(enc, converted, where) };
      enc = 'hex2bin';
    } else if (enc === 'hex2bin') {
      converted = { bytes: hexValue(converted, where) };
    } else if (enc === 'base64') {
      converted = { bytes: base64Value(converted, where) };
    } else if (enc === 'string') {
      converted = { text: textOf(converted, where) + '\0' };
    }
    // Only now is the name lower-cased: `U8` works, `STRING`/`HEX2BIN`/`BASE64` skip the conversion.
    const lower = enc.toLowerCase();
    const ns = this.namespaceCount;
    if (VARLEN.has(lower)) {
      if (lower === 'string' && !('text' in converted)) {
        throw new NvsInputError(`encoding ${encoding} of a file row is not supported (use lower-case string)`, where);
      }
      const payload = 'text' in converted ? new TextEncoder().encode(converted.text) : converted.bytes;
      this.builder.writeVariable(ns, lower === 'string' ? 'string' : 'blob', key, payload, where);
    } else if (PRIMITIVES.has(lower)) {
      const info = INTEGER_TYPES[lower as IntegerEncoding];
      const text = 'text' in converted ? converted.text : latin1(converted.bytes);
      const n = parsePyInt10(text, !('text' in converted));
      if (n === undefined) throw new NvsInputError(`${lower} value ${quoteShort(text)} is not a base-10 integer`, where);
      const bits = BigInt(info.width * 8);
      const min = info.signed ? -(1n << (bits - 1n)) : 0n;
      const max = info.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
      if (n < min || n > max) throw new NvsInputError(`${lower} value ${n} is out of range (${min}..${max})`, where);
      const data = new Uint8Array(8).fill(0xff);
      let u = BigInt.asUintN(info.width * 8, n);
      for (let i = 0; i < info.width; i++, u >>= 8n) data[i] = Number(u & 0xffn);
      this.builder.writeFixed(ns, info.code, key, data, where);
    } else {
      throw new NvsInputError(`unsupported encoding \`${encoding}\` (expected u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64 or binary)`, where);
    }
  }
}

/**
 * The rows the reference accepts but whose image is broken or not what the CSV seems to say:
 * an empty key; a data row before any namespace (written with namespace index 0, which readers
 * take for a namespace definition); a namespace declared again (upstream silently keeps writing
 * into the most recently created namespace, the legacy generators create a second namespace of
 * the same name — either way keys end up where the CSV does not put them); a key written twice
 * in one namespace (the device reads one of them, the inspector reports both).
 */
class StrictRowChecker {
  /** Where each namespace was declared, and the keys written in the current one (key → line). */
  private readonly declared = new Map<string, number | undefined>();
  private keys: Map<string, number | undefined> | undefined;
  private currentNamespace = '';
  private staExtras = false;
  private readonly ap: Record<string, string | undefined> = {};
  private readonly upstream: boolean;

  constructor(layout: NvsLayout) {
    this.upstream = layout === 'upstream';
  }

  check(row: NvsCsvRow, where: NvsErrorLocation = { line: row.line, key: row.key, source: row.source }): void {
    if (row.key === '') throw new NvsInputError('the key is empty: every row needs a key (a namespace name or an item key)', where);
    // Upstream writes the Wi-Fi station keys as data whatever their type column says.
    if (row.type === 'namespace' && !(this.upstream && WIFI_STA_KEYS.has(row.key))) {
      if (this.declared.has(row.key)) {
        const first = this.declared.get(row.key);
        throw new NvsInputError(`namespace \`${row.key}\` is declared again${first !== undefined ? ` (first on line ${first})` : ''}: declare each namespace once and put all its keys under it`, where);
      }
      this.declared.set(row.key, row.line);
      this.keys = new Map();
      this.currentNamespace = row.key;
      return;
    }
    if (!this.keys) throw new NvsInputError('data row before any namespace: declare one first (e.g. `app,namespace,,`)', where);
    this.claim(row.key, row.line, where);
    if (!this.upstream) return;
    // Upstream writes these blobs itself after the first Wi-Fi station key / a complete AP set.
    if (WIFI_STA_KEYS.has(row.key) && !this.staExtras) {
      this.staExtras = true;
      for (const extra of ['sta.apinfo', 'sta.pmk', 'sta.apsw']) this.claim(extra, undefined, where);
    }
    if (WIFI_AP_KEYS.has(row.key)) {
      if (row.key === 'ap.authmode' && row.value === '0') return;
      this.ap[row.key] = row.value;
      if (this.ap['ap.ssid'] && this.ap['ap.passwd'] && this.ap['ap.authmode'] && !this.keys.has('ap.pmk_info')) this.claim('ap.pmk_info', undefined, where);
    }
  }

  private claim(key: string, line: number | undefined, where: NvsErrorLocation): void {
    if (this.keys!.has(key)) {
      const first = this.keys!.get(key);
      const how = first !== undefined ? `first on line ${first}` : 'the generator writes it itself for the Wi-Fi keys';
      throw new NvsInputError(`key \`${key}\` is written twice in namespace \`${this.currentNamespace}\` (${how})`, where);
    }
    this.keys!.set(key, line);
  }
}

/**
 * Checks rows the way the (strict) writer does before writing anything: throws NvsInputError
 * naming source, line and key for an empty key, a row before any namespace, a namespace declared
 * again or a key written twice in one namespace. Values are not checked here.
 */
export function checkNvsRows(rows: readonly NvsCsvRow[], layout: NvsLayout = 'upstream'): void {
  const checker = new StrictRowChecker(layout);
  for (const row of rows) checker.check(row);
}

function textOf(v: Converted, where: NvsErrorLocation): string {
  if ('text' in v) return v.text;
  try {
    // Python's bytes.decode() keeps a UTF-8 BOM as U+FEFF; TextDecoder would drop it.
    const b = v.bytes;
    const bom = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
    return (bom ? '\ufeff' : '') + new TextDecoder('utf-8', { fatal: true }).decode(bom ? b.subarray(3) : b);
  } catch {
    throw new NvsInputError('file is not valid UTF-8 text (string encoding needs UTF-8)', where);
  }
}

function hexValue(v: Converted, where: NvsErrorLocation): Uint8Array {
  const text = 'text' in v ? pyStrip(v.text) : asciiStrip(latin1(v.bytes));
  if (text.length % 2 !== 0) {
    throw new NvsInputError(`hex2bin value has an odd number of characters (${text.length}); it must be a multiple of 2`, where);
  }
  const bytes = decodeHex(text);
  if ('badChar' in bytes) throw new NvsInputError(`hex2bin value contains a non-hexadecimal character ${JSON.stringify(bytes.badChar)}`, where);
  return bytes;
}

function base64Value(v: Converted, where: NvsErrorLocation): Uint8Array {
  let input: Uint8Array;
  if ('text' in v) {
    // Python's a2b_base64 only accepts ASCII str input.
    if (/[^\x00-\x7f]/.test(v.text)) throw new NvsInputError('base64 value contains non-ASCII characters', where);
    input = Uint8Array.from(v.text, (c) => c.charCodeAt(0));
  } else {
    input = v.bytes;
  }
  const out = decodeBase64Lenient(input);
  if ('error' in out) throw new NvsInputError(`base64 value cannot be decoded: ${out.error}`, where);
  return out;
}

const FILL_FORMAT = /^(blob_fill|blob_sz_fill)\((\d+);(0x[0-9a-fA-F]{2})\)/;

/** `blob_fill(N;0xPP)` / `blob_sz_fill(N;0xPP)` (upstream ≥ 0.1.9). */
function blobFill(encoding: string, v: Converted, where: NvsErrorLocation): Uint8Array {
  const m = FILL_FORMAT.exec(encoding);
  if (!m) throw new NvsInputError(`invalid encoding format \`${encoding}\` (expected blob_fill(N;0xPP) or blob_sz_fill(N;0xPP))`, where);
  const length = Number(m[2]);
  const pad = parseInt(m[3]!, 16);
  // File rows hand over bytes; the reference only supports text values here.
  const value = 'text' in v ? new TextEncoder().encode(v.text) : v.bytes;
  if (value.length > length) throw new NvsInputError(`value is ${value.length} bytes, longer than the ${length} bytes of ${encoding}`, where);
  const sized = m[1] === 'blob_sz_fill';
  const out = new Uint8Array((sized ? 4 : 0) + length).fill(pad);
  if (sized) new DataView(out.buffer).setUint32(0, value.length, true);
  out.set(value, sized ? 4 : 0);
  return out;
}

function quoteShort(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
