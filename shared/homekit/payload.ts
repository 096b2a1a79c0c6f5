// HomeKit setup payload, the `X-HM://…` text inside the label's QR code (spec homekit-setup.md §7).
//
// Header value bits: 0–26 setup code, 27 paired, 28 IP, 29 BLE, 30 WAC, 31–38 category,
// 40 Espressif "product data present", 43–45 version (0). The header is that value in base 36
// (0-9A-Z), left-padded to exactly 9 characters; then the 4-character setup ID, then — only in
// Espressif's product-data variant — base 36 of (low 32 bits of the product data << 56), padded
// to 18 characters.
import { parseSetupCode, SetupDataError } from './setup-code.ts';
import { parseSetupId } from './setup-id.ts';

export const SETUP_PAYLOAD_PREFIX = 'X-HM://';

export interface SetupPayloadFlags {
  /** HAP over IP (bit 28). */
  ip?: boolean;
  /** HAP over Bluetooth LE (bit 29). */
  ble?: boolean;
  /** Wireless Accessory Configuration (bit 30); Espressif's tool always sets it, the ADK never. */
  wac?: boolean;
  /** Accessory already paired (bit 27); the code is then 0 and the ID `0000`. */
  paired?: boolean;
}

/** What setup_payload_gen.py always emits. */
export const ESPRESSIF_DEFAULT_FLAGS: Readonly<SetupPayloadFlags> = Object.freeze({ ip: true, wac: true });

export interface SetupPayloadInput {
  /** Accessory category identifier, 1…255. */
  category: number;
  /**
   * 8 digits or DDD-DD-DDD (validated; forbidden codes throw). Omitted = the ADK's "no code"
   * form (code field 0), which a payload for a labelled accessory never uses. Ignored when paired.
   */
  setupCode?: string;
  /** 4 characters 0-9/A-Z. Omitted = `0000` (ADK's form without an ID). Ignored when paired. */
  setupId?: string;
  flags: SetupPayloadFlags;
  /**
   * Espressif product-data variant: 16 hex digits (from the MFi portal). As in
   * setup_payload_gen.py only the last 8 are used, and all-zero last 8 digits mean "none".
   */
  productData?: string;
}

export interface ParsedSetupPayload {
  category: number;
  /** 8 digits (leading zeros kept); `00000000` in a paired payload. */
  setupCode: string;
  setupId: string;
  flags: Required<SetupPayloadFlags>;
  /** Low 32 bits of the product data as 8 lower-case hex digits, when present. */
  productDataLow32?: string;
  version: number;
  /** The 41-bit header value. */
  headerValue: bigint;
}

const HEADER_LENGTH = 9;
const PRODUCT_DATA_LENGTH = 18;
const PRODUCT_DATA_BIT = 1n << 40n;
const FLAG_BITS = { paired: 27n, ip: 28n, ble: 29n, wac: 30n } as const;
const BASE36 = /^[0-9A-Z]+$/;

/** The header integer (before base 36), as `header_value_hex` in payloads.json. */
export function setupPayloadHeaderValue(input: SetupPayloadInput): bigint {
  const { category, flags } = input;
  if (!Number.isInteger(category) || category < 1 || category > 255) {
    throw new SetupDataError(`accessory category must be an integer from 1 to 255 (got ${category})`);
  }
  const code = flags.paired || input.setupCode === undefined ? 0n : BigInt(parseSetupCode(input.setupCode));
  let value = code | (BigInt(category) << 31n);
  for (const [name, bit] of Object.entries(FLAG_BITS)) {
    if (flags[name as keyof SetupPayloadFlags]) value |= 1n << bit;
  }
  if (productDataLow32(input.productData) !== undefined) value |= PRODUCT_DATA_BIT;
  return value;
}

/** The full payload, e.g. `X-HM://007JNU5AE7OSX`. Throws SetupDataError on bad input. */
export function buildSetupPayload(input: SetupPayloadInput): string {
  const header = toBase36(setupPayloadHeaderValue(input), HEADER_LENGTH);
  const id = input.flags.paired || input.setupId === undefined ? '0000' : parseSetupId(input.setupId);
  const low32 = productDataLow32(input.productData);
  const suffix = low32 === undefined ? '' : toBase36(BigInt(low32) << 56n, PRODUCT_DATA_LENGTH);
  return `${SETUP_PAYLOAD_PREFIX}${header}${id}${suffix}`;
}

/** Reads a payload back (labels, scanned QR codes, tests). Throws SetupDataError when malformed. */
export function parseSetupPayload(payload: string): ParsedSetupPayload {
  const body = payload.startsWith(SETUP_PAYLOAD_PREFIX) ? payload.slice(SETUP_PAYLOAD_PREFIX.length) : undefined;
  const lengthOk = body !== undefined && (body.length === HEADER_LENGTH + 4 || body.length === HEADER_LENGTH + 4 + PRODUCT_DATA_LENGTH);
  if (!lengthOk || !BASE36.test(body)) {
    throw new SetupDataError(`not a HomeKit setup payload (expected ${SETUP_PAYLOAD_PREFIX} followed by 13 or 31 characters 0-9/A-Z)`);
  }
  const headerValue = fromBase36(body.slice(0, HEADER_LENGTH));
  const setupId = body.slice(HEADER_LENGTH, HEADER_LENGTH + 4);
  const bit = (n: bigint) => ((headerValue >> n) & 1n) === 1n;
  const parsed: ParsedSetupPayload = {
    category: Number((headerValue >> 31n) & 0xffn),
    setupCode: String(headerValue & 0x7ffffffn).padStart(8, '0'),
    setupId,
    flags: { paired: bit(FLAG_BITS.paired), ip: bit(FLAG_BITS.ip), ble: bit(FLAG_BITS.ble), wac: bit(FLAG_BITS.wac) },
    version: Number((headerValue >> 43n) & 7n),
    headerValue,
  };
  if ((headerValue & 0x7ffffffn) > 99_999_999n) throw new SetupDataError('setup payload carries a setup code above 99999999');
  const suffix = body.slice(HEADER_LENGTH + 4);
  if (suffix !== '') {
    if (!bit(40n)) throw new SetupDataError('setup payload has product data but the header does not announce it');
    const pd = fromBase36(suffix);
    if ((pd & ((1n << 56n) - 1n)) !== 0n || pd >> 88n !== 0n) throw new SetupDataError('setup payload product data is malformed');
    parsed.productDataLow32 = (pd >> 56n).toString(16).padStart(8, '0');
  } else if (bit(40n)) {
    throw new SetupDataError('setup payload announces product data but carries none');
  }
  return parsed;
}

function productDataLow32(productData: string | undefined): number | undefined {
  if (productData === undefined) return undefined;
  if (!/^[0-9A-Fa-f]{16}$/.test(productData)) {
    throw new SetupDataError('product data must be 16 hexadecimal digits (as shown in the MFi portal)');
  }
  const low = parseInt(productData.slice(8), 16);
  return low === 0 ? undefined : low;
}

function toBase36(value: bigint, width: number): string {
  const text = value.toString(36).toUpperCase();
  if (text.length > width) throw new RangeError(`value does not fit ${width} base-36 characters`);
  return text.padStart(width, '0');
}

function fromBase36(text: string): bigint {
  let v = 0n;
  for (const c of text) v = v * 36n + BigInt(parseInt(c, 36));
  return v;
}
