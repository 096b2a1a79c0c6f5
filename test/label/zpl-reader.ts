// Test-side reader of ZPL: splits a format into commands and fields, decodes ^FH hex escapes and
// ^GF graphics into pixels. Written from the ZPL II Programming Guide, apart from the station's
// renderer, so the tests never read the ZPL with the code that wrote it.
import type { Raster } from './raster.ts';

export interface ZplCommand {
  name: string;
  params: string;
}

export interface ZplField {
  origin: { kind: 'FO' | 'FT'; x: number; y: number };
  font?: { name: string; height: number; width: number };
  block?: { width: number; lines: number; justify: string };
  hexIndicator?: string;
  qr?: { model: number; magnification: number; ecc?: string };
  /** ^FD content as sent. */
  data?: string;
  /** ^FD content decoded (^FH escapes, ^FB backslashes, UTF-8 under ^CI28). */
  text?: string;
  graphic?: { bytesPerRow: number; rows: number; bytes: Uint8Array };
}

export interface ZplFormat {
  commands: ZplCommand[];
  /** ^PW and ^LL in dots. */
  width: number;
  length: number;
  /** The ^BY in force (module width, ratio, height) when fields were placed. */
  barcodeDefaults?: string;
  fields: ZplField[];
}

const TWO_LETTER = new Set(['XA', 'XZ', 'CI', 'PW', 'LL', 'LH', 'PR', 'BY', 'FO', 'FT', 'BQ', 'FD', 'FS', 'FB', 'FH', 'GF', 'PQ', 'FX', 'SD', 'HS', 'JA', 'MD', 'MN', 'MT']);

/** The commands of a ZPL text, in order (^A is the one-letter font command). */
export function zplCommands(text: string): ZplCommand[] {
  const out: ZplCommand[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '^' && c !== '~') {
      i++;
      continue;
    }
    let name = text.slice(i + 1, i + 3).toUpperCase();
    if (!TWO_LETTER.has(name) && name[0] === 'A') name = 'A';
    const start = i + 1 + name.length;
    let end: number;
    if (name === 'FD' || name === 'FX') end = text.indexOf('^FS', start);
    else {
      end = start;
      while (end < text.length && text[end] !== '^' && text[end] !== '~') end++;
    }
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    out.push({ name: `${c}${name}`, params: name === 'FD' ? raw : raw.replace(/[\r\n]/g, '').trim() });
    i = end;
  }
  return out;
}

/** One ^XA…^XZ format: label size and its fields. */
export function readZpl(text: string): ZplFormat {
  const commands = zplCommands(text);
  const format: ZplFormat = { commands, width: NaN, length: NaN, fields: [] };
  let field: ZplField | null = null;
  const nums = (p: string) => p.split(',').map((s) => Number(s));
  for (const { name, params } of commands) {
    switch (name) {
      case '^PW': format.width = Number(params); break;
      case '^LL': format.length = Number(params); break;
      case '^BY': format.barcodeDefaults = params; break;
      case '^FO': case '^FT': {
        const [x, y] = nums(params);
        field = { origin: { kind: name.slice(1) as 'FO' | 'FT', x: x!, y: y! } };
        break;
      }
      case '^A': {
        const [fontAndOrientation, h, w] = params.split(',');
        field!.font = { name: fontAndOrientation![0]!, height: Number(h), width: Number(w) };
        break;
      }
      case '^FB': {
        const [w, lines, , justify] = params.split(',');
        field!.block = { width: Number(w), lines: Number(lines), justify: justify ?? 'L' };
        break;
      }
      case '^FH': field!.hexIndicator = params || '_'; break;
      case '^BQ': {
        const [, model, magnification, ecc] = params.split(',');
        field!.qr = { model: Number(model), magnification: Number(magnification), ecc };
        break;
      }
      case '^GF': field!.graphic = readGraphic(params); break;
      case '^FD': field!.data = params; field!.text = decodeText(params, field!); break;
      case '^FS': if (field) format.fields.push(field); field = null; break;
    }
  }
  return format;
}

function decodeText(data: string, field: ZplField): string {
  const bytes: number[] = [];
  const hex = field.hexIndicator;
  for (let i = 0; i < data.length; i++) {
    if (hex && data[i] === hex && /^[0-9A-Fa-f]{2}$/.test(data.slice(i + 1, i + 3))) {
      bytes.push(parseInt(data.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(data.charCodeAt(i));
  }
  const text = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  return field.block ? text.replace(/\\\\/g, '\\') : text;
}

/** ^GFA,b,c,d,data — ASCII hex, uncompressed: d bytes per row, c bytes in all. */
function readGraphic(params: string): ZplField['graphic'] {
  const [type, binaryBytes, total, perRow, ...rest] = params.split(',');
  if (type !== 'A') throw new Error(`^GF type ${type} not read by this test reader`);
  const hex = rest.join(',');
  const bytes = new Uint8Array(Number(total));
  if (hex.length !== bytes.length * 2 || Number(binaryBytes) !== bytes.length) throw new Error('^GF: byte counts do not match the data');
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { bytesPerRow: Number(perRow), rows: bytes.length / Number(perRow), bytes };
}

/** A white label of `width` × `height` dots with the graphic's 1 bits black at (x, y). */
export function graphicOnLabel(field: ZplField, width: number, height: number): Raster {
  const data = new Uint8Array(width * height * 4).fill(255);
  const g = field.graphic!;
  for (let row = 0; row < g.rows; row++) {
    for (let col = 0; col < g.bytesPerRow * 8; col++) {
      if (!(g.bytes[row * g.bytesPerRow + (col >> 3)]! & (0x80 >> (col & 7)))) continue;
      const px = field.origin.x + col;
      const py = field.origin.y + row;
      if (px >= width || py >= height) continue;
      data.fill(0, (py * width + px) * 4, (py * width + px) * 4 + 3);
    }
  }
  return { width, height, data };
}
