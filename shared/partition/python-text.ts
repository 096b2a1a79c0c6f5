// The bits of Python text semantics gen_esp32part.py leans on (str.strip, str.splitlines, int(x, 0),
// '%x', '%.1f', bytes repr), reproduced so our parser accepts and rejects exactly what it does.

/** Characters Python's str.isspace() accepts (differs from JS trim: adds \x1c-\x1f and \x85, lacks \ufeff). */
const PY_SPACE = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function isPySpace(ch: string): boolean {
  return ch.length === 1 && PY_SPACE.includes(ch);
}

/** Python `str.strip()` with no arguments. */
export function pyStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPySpace(s[start]!)) start++;
  while (end > start && isPySpace(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Line boundaries of Python `str.splitlines()`. */
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

/** Python `str.splitlines()`: no empty last element after a final line break. */
export function pySplitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(new RegExp(LINE_BREAK.source, 'g'));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Decimal value of a Unicode decimal digit (category Nd), or -1. Python's int() accepts any of
 * them; Unicode guarantees they come in contiguous runs of ten starting at zero.
 */
function unicodeDigitValue(cp: number): number {
  const isNd = (c: number) => /^\p{Nd}$/u.test(String.fromCodePoint(c));
  if (!isNd(cp)) return -1;
  let start = cp;
  while (isNd(start - 1)) start--;
  return (cp - start) % 10;
}

/** CPython first maps Unicode digits to ASCII and Unicode spaces to ' ' (anything else non-ASCII fails). */
function toAsciiNumber(text: string): string | undefined {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out += ch;
    else if (isPySpace(ch)) out += ' ';
    else {
      const d = unicodeDigitValue(cp);
      if (d < 0) return undefined;
      out += String(d);
    }
  }
  return out;
}

const INT_BASE0 = /^([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[oO]((?:_?[0-7])+)|0[bB]((?:_?[01])+)|(0+(?:_?0)*)|([1-9](?:_?[0-9])*))$/;

/**
 * Python `int(text, 0)`: 0x/0o/0b prefixes, decimal without leading zeros, `_` between digits,
 * surrounding whitespace, sign. Returns undefined where Python raises ValueError. Values beyond
 * 2^53 are refused too (they could never fit the table's 32-bit fields anyway).
 */
export function pyIntBase0(text: string): number | undefined {
  const ascii = toAsciiNumber(text);
  if (ascii === undefined) return undefined;
  const m = INT_BASE0.exec(pyStrip(ascii));
  if (!m) return undefined;
  const [, sign, hex, oct, bin, zeros, dec] = m;
  let value: bigint;
  if (hex !== undefined) value = BigInt('0x' + hex.replaceAll('_', ''));
  else if (oct !== undefined) value = BigInt('0o' + oct.replaceAll('_', ''));
  else if (bin !== undefined) value = BigInt('0b' + bin.replaceAll('_', ''));
  else if (zeros !== undefined) value = 0n;
  else value = BigInt(dec!.replaceAll('_', ''));
  if (sign === '-') value = -value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(value);
}

/** Python `int(text, 16)` (used for --extra-partition-subtypes values). */
export function pyIntBase16(text: string): number | undefined {
  const ascii = toAsciiNumber(text);
  if (ascii === undefined) return undefined;
  const m = /^([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|([0-9a-fA-F](?:_?[0-9a-fA-F])*))$/.exec(pyStrip(ascii));
  if (!m) return undefined;
  const value = Number.parseInt((m[2] ?? m[3]!).replaceAll('_', ''), 16);
  if (!Number.isSafeInteger(value)) return undefined;
  return m[1] === '-' ? -value : value;
}

/** Python `'0x%x' % n` (negative numbers print as -0x…). */
export function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** Python `'%.1f' % (n / d)` for non-negative integers: exact value, ties rounded to even. */
export function pyFixed1(n: number, d: number): string {
  const num = BigInt(n) * 10n;
  const den = BigInt(d);
  let tenths = num / den;
  const rest = num % den;
  if (rest * 2n > den || (rest * 2n === den && tenths % 2n === 1n)) tenths += 1n;
  return `${tenths / 10n}.${tenths % 10n}`;
}

/** Python `repr(bytes)`: b'..' (or b".." when it holds ' but no "), printable ASCII kept, rest escaped. */
export function pyBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const quote = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let out = 'b' + quote;
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (String.fromCharCode(b) === quote) out += '\\' + quote;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out + quote;
}

/** Python's default string ordering: by code point (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
