// The answer of a ZPL printer to ~HS (host status): three <STX>…<ETX> strings of comma-separated
// fields (ZPL II Programming Guide, ~HS). Only the fields a print job depends on are kept, and
// each problem gets the one sentence an operator needs to fix it. Pure: no sockets here.

export interface HostStatus {
  paperOut: boolean;
  paused: boolean;
  /** Formats received and not yet printed. */
  formatsInBuffer: number;
  bufferFull: boolean;
  /** A format is being received (its ^XZ has not arrived). */
  partialFormat: boolean;
  corruptRam: boolean;
  underTemperature: boolean;
  overTemperature: boolean;
  headOpen: boolean;
  ribbonOut: boolean;
  /** Labels of the current batch still to print. */
  labelsRemaining: number;
}

/** A printer condition that stops printing. */
export interface PrinterProblem {
  code: 'head-open' | 'paper-out' | 'ribbon-out' | 'paused' | 'buffer-full' | 'too-hot' | 'too-cold' | 'corrupt-ram';
  /** What is wrong and how to fix it, in the operator's words, after "The label printer at X ". */
  message: string;
}

export class HostStatusError extends Error {
  constructor(detail: string) {
    super(`not a ~HS answer: ${detail}`);
    this.name = 'HostStatusError';
  }
}

const STRING1_FIELDS = 12; // aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
const STRING2_FIELDS = 11; // mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www

/** Parses the three ~HS strings (their text between STX and ETX). */
export function parseHostStatus(strings: readonly string[]): HostStatus {
  if (strings.length < 2) throw new HostStatusError(`${strings.length} string(s), expected 3`);
  const one = fields(strings[0]!, STRING1_FIELDS, 1);
  const two = fields(strings[1]!, STRING2_FIELDS, 2);
  const flag = (f: string[], i: number) => f[i] === '1';
  return {
    paperOut: flag(one, 1),
    paused: flag(one, 2),
    formatsInBuffer: Number(one[4]),
    bufferFull: flag(one, 5),
    partialFormat: flag(one, 7),
    corruptRam: flag(one, 9),
    underTemperature: flag(one, 10),
    overTemperature: flag(one, 11),
    headOpen: flag(two, 2),
    ribbonOut: flag(two, 3),
    labelsRemaining: Number(two[8]),
  };
}

function fields(text: string, count: number, which: number): string[] {
  const f = text.trim().split(',').map((s) => s.trim());
  if (f.length < count || !f.slice(0, count).every((s) => /^\d+$/.test(s))) {
    throw new HostStatusError(`string ${which} has ${f.length} field(s), expected ${count} numbers`);
  }
  return f;
}

/** Nothing received is waiting to print: no format in the buffer, none arriving, no labels left in the batch. */
export function isIdle(s: HostStatus): boolean {
  return s.formatsInBuffer === 0 && s.labelsRemaining === 0 && !s.partialFormat;
}

/**
 * The condition that keeps the printer from printing, most specific first; null when it can print.
 * Messages continue "The label printer at <address> …".
 */
export function printerProblem(s: HostStatus): PrinterProblem | null {
  // An open head and an empty roll also pause the printer: name the cause, not the pause.
  if (s.headOpen) return { code: 'head-open', message: 'has its print head open: close the head' };
  if (s.paperOut) return { code: 'paper-out', message: 'is out of labels: load a new roll of labels and close the head' };
  if (s.ribbonOut) return { code: 'ribbon-out', message: 'is out of ribbon: load a new ribbon' };
  if (s.overTemperature) return { code: 'too-hot', message: 'has an overheated print head: let it cool down for a few minutes' };
  if (s.underTemperature) return { code: 'too-cold', message: 'has a print head that is too cold: let it warm up' };
  if (s.corruptRam) return { code: 'corrupt-ram', message: 'has lost its settings (corrupt memory): call the line engineer' };
  if (s.paused) return { code: 'paused', message: 'is paused: press PAUSE on the printer to resume' };
  if (s.bufferFull) return { code: 'buffer-full', message: 'has a full memory: wait until it has printed what it holds' };
  return null;
}
