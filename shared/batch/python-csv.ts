// Rows written the way Python's csv.writer (excel dialect, QUOTE_MINIMAL) writes them, which is
// how hk_mfg_gen.py / mfg_gen.py produce the per-accessory CSVs and the values master:
// fields joined by ',', each row ended by CRLF, a field quoted only when it contains ',', '"',
// CR or LF (quotes doubled), and a row made of one empty field written as `""`.

const NEEDS_QUOTES = /[",\r\n]/;

export function pythonCsvField(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function pythonCsvRow(fields: readonly string[]): string {
  if (fields.length === 1 && fields[0] === '') return '""\r\n';
  return `${fields.map(pythonCsvField).join(',')}\r\n`;
}
