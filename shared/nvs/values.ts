// Text -> value conversions with the semantics of the Python functions the reference generator
// calls (str.strip, int(), binascii.a2b_hex, binascii.a2b_base64), so the same CSV values are
// accepted and rejected. Each function returns a result or a short reason; callers add the location.

/** Characters Python's str.strip() / int() treat as whitespace. */
const PY_WHITESPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
/** bytes.strip() only knows ASCII whitespace. */
const ASCII_WHITESPACE = '\t\n\v\f\r ';

function stripChars(text: string, chars: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start]!)) start++;
  while (end > start && chars.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** Python `str.strip()`. */
export function pyStrip(text: string): string {
  return stripChars(text, PY_WHITESPACE);
}

/** Python `bytes.strip()` on text that holds one char per byte (latin1). */
export function asciiStrip(text: string): string {
  return stripChars(text, ASCII_WHITESPACE);
}

/** Bytes -> string with one char per byte, so byte-level Python semantics can be applied to text. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

const DEC_INT = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

/**
 * Python `int(text)` (base 10): surrounding whitespace, a sign and single `_` between digits are
 * allowed; anything else (hex, empty, fractions) is not. `bytesInput` = value came from a file
 * (Python then strips ASCII whitespace only). Returns undefined when Python would raise ValueError.
 */
export function parsePyInt10(text: string, bytesInput = false): bigint | undefined {
  const t = bytesInput ? asciiStrip(text) : pyStrip(text);
  if (!DEC_INT.test(t)) return undefined;
  return BigInt(t.replace(/_/g, ''));
}

const BASE0_INT = /^([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[oO]((?:_?[0-7])+)|0[bB]((?:_?[01])+)|([1-9](?:_?[0-9])*|0+(?:_?0)*))$/;

/** Python `int(text, 0)`: 0x/0o/0b prefixes, `_` separators, no leading zeros on decimals. */
export function parsePyIntBase0(text: string): bigint | undefined {
  const m = BASE0_INT.exec(pyStrip(text));
  if (!m) return undefined;
  const [, sign, hex, oct, bin, dec] = m;
  const digits = (s: string) => s.replace(/_/g, '');
  let v: bigint;
  if (hex !== undefined) v = BigInt(`0x${digits(hex)}`);
  else if (oct !== undefined) v = BigInt(`0o${digits(oct)}`);
  else if (bin !== undefined) v = BigInt(`0b${digits(bin)}`);
  else v = BigInt(digits(dec!));
  return sign === '-' ? -v : v;
}

/** `binascii.a2b_hex` on an even-length string; returns the offending character on failure. */
export function decodeHex(text: string): Uint8Array | { badChar: string } {
  const out = new Uint8Array(text.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const hi = hexValue(text.charCodeAt(2 * i));
    const lo = hexValue(text.charCodeAt(2 * i + 1));
    if (hi < 0) return { badChar: text[2 * i]! };
    if (lo < 0) return { badChar: text[2 * i + 1]! };
    out[i] = (hi << 4) | lo;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_TABLE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 64; i++) t[B64_ALPHABET.charCodeAt(i)] = i;
  return t;
})();

/**
 * CPython's non-strict `binascii.a2b_base64`: bytes outside the alphabet are skipped; once a group
 * holding 2 or 3 symbols is completed to 4 by `=` signs, decoding stops and the rest is ignored.
 * A dangling partial group is an error (the message CPython gives).
 */
export function decodeBase64Lenient(input: Uint8Array): Uint8Array | { error: string } {
  const out = new Uint8Array(Math.floor((input.length * 3) / 4) + 3);
  let n = 0;
  let quadPos = 0;
  let left = 0;
  let pads = 0;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch === 0x3d /* '=' */) {
      if (quadPos >= 2 && quadPos + ++pads >= 4) return out.slice(0, n);
      continue;
    }
    const v = B64_TABLE[ch]!;
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0: left = v; quadPos = 1; break;
      case 1: out[n++] = (left << 2) | (v >> 4); left = v & 0x0f; quadPos = 2; break;
      case 2: out[n++] = ((left << 4) | (v >> 2)) & 0xff; left = v & 0x03; quadPos = 3; break;
      default: out[n++] = ((left << 6) | v) & 0xff; left = 0; quadPos = 0; break;
    }
  }
  if (quadPos === 1) {
    const dataChars = Math.floor(n / 3) * 4 + 1;
    return { error: `Invalid base64-encoded string: number of data characters (${dataChars}) cannot be 1 more than a multiple of 4` };
  }
  if (quadPos !== 0) return { error: 'Incorrect padding' };
  return out.slice(0, n);
}
