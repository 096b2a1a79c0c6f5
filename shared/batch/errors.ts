// The one error type batch input validation throws: it always names the file and, where the
// problem belongs to a cell, the line and column, so an operator can fix the spreadsheet.
// Messages never contain setup codes (batch inputs do not carry any).

export interface BatchInputLocation {
  /** File name as the operator gave it. */
  file: string;
  /** 1-based line in that file. */
  line?: number;
  /** Column (values file) or key (config file). */
  column?: string;
}

export class BatchInputError extends Error {
  readonly file: string;
  readonly line?: number;
  readonly column?: string;
  readonly detail: string;

  constructor(where: BatchInputLocation, detail: string) {
    const parts = [where.file];
    if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.column !== undefined) parts.push(`column \`${where.column}\``);
    super(`${parts.join(', ')}: ${detail}`);
    this.name = 'BatchInputError';
    this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
    this.detail = detail;
  }
}
