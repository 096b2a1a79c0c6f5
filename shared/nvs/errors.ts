// The one error type the NVS CSV parser and image writer throw for bad input.

export interface NvsErrorLocation {
  /** 1-based CSV line where the offending record starts. */
  line?: number;
  /** Key of the offending row (namespace name for namespace rows). */
  key?: string;
  /** CSV file name, when known (only used to make the message clearer). */
  source?: string;
}

/**
 * Bad CSV content, bad options or data that does not fit: the message names the CSV line and key
 * when the problem belongs to a row, e.g. "cfg.csv line 3, key `h`: hex2bin value has an odd number…".
 */
export class NvsInputError extends Error {
  readonly line?: number;
  readonly key?: string;
  readonly source?: string;
  /** The message without the location prefix. */
  readonly detail: string;

  constructor(detail: string, where: NvsErrorLocation = {}) {
    super(formatLocation(where) + detail);
    this.name = 'NvsInputError';
    this.detail = detail;
    if (where.line !== undefined) this.line = where.line;
    if (where.key !== undefined) this.key = where.key;
    if (where.source !== undefined) this.source = where.source;
  }
}

function formatLocation({ line, key, source }: NvsErrorLocation): string {
  const parts: string[] = [];
  if (line !== undefined) parts.push(`${source ?? 'CSV'} line ${line}`);
  else if (source !== undefined) parts.push(source);
  if (key !== undefined) parts.push(`key \`${key}\``);
  return parts.length ? `${parts.join(', ')}: ` : '';
}
