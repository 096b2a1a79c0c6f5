// NVS CSV reader with the reference generator's semantics (spec §8): universal newlines, physical
// lines starting with '#' dropped *before* CSV parsing, then Python's csv "excel" dialect read
// through csv.DictReader (first record = header, columns by name, short rows -> missing fields,
// surplus fields dropped).
//
// Why not csv-parse: the comment filter works on physical lines (it even removes a continuation
// line of a quoted value), and Python's non-strict quote handling (`"ab"cd` -> `abcd`, a quote
// inside an unquoted field is literal, an unterminated quote runs to end of file) plus DictReader's
// header rules are not options csv-parse offers. A small state machine mirroring CPython's
// Modules/_csv.c reproduces them exactly.
import { NvsInputError } from './errors.ts';

export interface NvsCsvRow {
  /** 1-based line (in the original text, comment lines counted) where the record starts. */
  line: number;
  key: string;
  /** `namespace`, `file`, or anything else (= literal data); undefined when the field is missing. */
  type?: string;
  /** Undefined when the field is missing (Python None). */
  encoding?: string;
  /** Undefined when the field is missing (Python None). */
  value?: string;
  /** CSV file name, for error messages. */
  source?: string;
}

export interface CsvRecord {
  line: number;
  fields: string[];
}

/** Python's csv module refuses fields longer than this (csv.field_size_limit() default). */
export const CSV_FIELD_SIZE_LIMIT = 131072;

const State = {
  StartRecord: 0,
  StartField: 1,
  InField: 2,
  InQuotedField: 3,
  QuoteInQuotedField: 4,
  EatCrNl: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/** Python universal-newline reading: `\r\n` and lone `\r` become `\n`. */
export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Physical lines (each keeping its `\n`, if any) with their 1-based numbers, minus the lines
 * whose first character is `#`.
 */
function uncommentedLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let start = 0;
  let lineNo = 1;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl + 1;
    if (text[start] !== '#') out.push({ line: lineNo, text: text.slice(start, end) });
    start = end;
    lineNo++;
  }
  return out;
}

/** CPython's csv reader state machine, fed one physical line at a time; a record may span lines (quoted newlines). */
class RecordReader {
  private state: State = State.StartRecord;
  private fields: string[] = [];
  private field = '';
  private fieldLen = 0;
  /** The line the current record started on. */
  recordLine = 0;
  private currentLine = 0;

  constructor(private readonly source: string | undefined) {}

  /** Reads one physical line (with its `\n`, if any); returns the record it completes, if it completes one. */
  readLine(line: number, physical: string): CsvRecord | undefined {
    this.currentLine = line;
    if (this.state === State.StartRecord) this.recordLine = line;
    for (const c of physical) this.step(c); // for..of walks code points, as Python counts characters
    this.step(null);
    if (this.state !== State.StartRecord) return undefined;
    const record = { line: this.recordLine, fields: this.fields };
    this.fields = [];
    return record;
  }

  inQuotedField(): boolean {
    return this.state === State.InQuotedField;
  }

  /** The record of a quoted value that runs to the end of the text, as Python's reader keeps it. */
  endInQuotes(): CsvRecord {
    this.saveField();
    return { line: this.recordLine, fields: this.fields };
  }

  private addChar(c: string): void {
    if (this.fieldLen >= CSV_FIELD_SIZE_LIMIT) {
      throw new NvsInputError(`CSV field larger than field limit (${CSV_FIELD_SIZE_LIMIT} characters)`, { line: this.recordLine, source: this.source });
    }
    this.field += c;
    this.fieldLen++;
  }

  private saveField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.fieldLen = 0;
  }

  /** A newline, or the end of the line (`null`), ends the field and the record. */
  private endRecord(c: string | null): void {
    this.saveField();
    this.state = c === null ? State.StartRecord : State.EatCrNl;
  }

  // One step of CPython's parse_process_char; `c === null` is the end-of-line marker.
  private step(c: string | null): void {
    switch (this.state) {
      case State.StartRecord:
        if (c === null) return;
        if (c === '\n') { this.state = State.EatCrNl; return; }
        this.state = State.StartField;
        return this.step(c);
      case State.StartField:
        if (c === null || c === '\n') this.endRecord(c);
        else if (c === '"') this.state = State.InQuotedField;
        else if (c === ',') this.saveField();
        else { this.addChar(c); this.state = State.InField; }
        return;
      case State.InField:
        if (c === null || c === '\n') this.endRecord(c);
        else if (c === ',') { this.saveField(); this.state = State.StartField; }
        else this.addChar(c);
        return;
      case State.InQuotedField:
        if (c === null) return;
        if (c === '"') this.state = State.QuoteInQuotedField;
        else this.addChar(c);
        return;
      case State.QuoteInQuotedField:
        if (c === '"') { this.addChar('"'); this.state = State.InQuotedField; }
        else if (c === ',') { this.saveField(); this.state = State.StartField; }
        else if (c === null || c === '\n') this.endRecord(c);
        else { this.addChar(c); this.state = State.InField; } // non-strict: `"ab"cd` -> abcd
        return;
      case State.EatCrNl:
        if (c === null) this.state = State.StartRecord;
        else if (c !== '\n') {
          throw new NvsInputError('new-line character seen in unquoted field', { line: this.currentLine, source: this.source });
        }
        return;
    }
  }
}

/**
 * Records as Python's `csv.reader(excel)` yields them from the comment-filtered lines, including
 * the empty records of blank lines (DictReader needs to see those for the header).
 */
export function readCsvRecords(text: string, source?: string, options: { allowUnterminatedQuote?: boolean } = {}): CsvRecord[] {
  const records: CsvRecord[] = [];
  const reader = new RecordReader(source);
  for (const { line, text: physical } of uncommentedLines(normalizeNewlines(text))) {
    const record = reader.readLine(line, physical);
    if (record) records.push(record);
  }
  if (reader.inQuotedField()) {
    // End of file inside quotes: Python's non-strict reader keeps what it has, i.e. the quoted value
    // swallows every row after its start. We refuse it (README, "where we do better").
    if (!options.allowUnterminatedQuote) {
      throw new NvsInputError(`unterminated quote: the quoted value that starts on line ${reader.recordLine} never ends (it would swallow every row after it)`, { line: reader.recordLine, source });
    }
    records.push(reader.endInQuotes());
  }
  return records;
}

/**
 * Parse NVS CSV text into rows (csv.DictReader semantics). The first record is the header, even if
 * it is a blank line; blank records after it are skipped. Every data row must have a `key` field.
 */
export function parseNvsCsv(text: string, options: { source?: string; allowUnterminatedQuote?: boolean } = {}): NvsCsvRow[] {
  const { source } = options;
  const records = readCsvRecords(text, source, options);
  if (records.length === 0) return [];
  const header = records[0]!.fields;
  // Python looks up row['key'], row['type'], row['encoding'], row['value'] for every row: a column
  // missing from the header fails at the first data row.
  const missingColumns = ['key', 'type', 'encoding', 'value'].filter((c) => !header.includes(c));
  const rows: NvsCsvRow[] = [];
  for (const { line, fields } of records.slice(1)) {
    if (fields.length === 0) continue;
    if (missingColumns.length > 0) {
      throw new NvsInputError(
        `CSV header has no ${missingColumns.map((c) => `\`${c}\``).join(', ')} column (header is "${header.join(',')}"; expected key,type,encoding,value)` +
          (header[0]?.startsWith('\ufeff') ? '; the file starts with a UTF-8 byte order mark, save it without one' : ''),
        { line, source },
      );
    }
    const dict = new Map<string, string | undefined>();
    header.forEach((name, i) => {
      if (i < fields.length) dict.set(name, fields[i]);
    });
    // DictReader fills missing trailing columns with None after zipping (this also wins over
    // an earlier duplicate column name).
    for (const name of header.slice(fields.length)) dict.set(name, undefined);
    const key = dict.get('key');
    if (key === undefined) throw new NvsInputError('row has no `key` field', { line, source });
    const row: NvsCsvRow = { line, key };
    const type = dict.get('type');
    const encoding = dict.get('encoding');
    const value = dict.get('value');
    if (type !== undefined) row.type = type;
    if (encoding !== undefined) row.encoding = encoding;
    if (value !== undefined) row.value = value;
    if (source !== undefined) row.source = source;
    rows.push(row);
  }
  return rows;
}
