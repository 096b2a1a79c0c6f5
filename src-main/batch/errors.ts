// What the batch reports to whoever runs it (the CLI words it for a terminal): typed, so batch/
// never depends on the command line. Messages never contain a setup code: accessories are named
// by position and setup ID, never by their file names (with the default --fileid those hold the
// code).
export type BatchErrorKind =
  /** A bad input (option value, file, name) found before anything was written. */
  | 'input'
  /** The output folder is not in a state to start (or resume) a run. */
  | 'state'
  /** The run stopped after it started; every issued identity is in the journal (resume). */
  | 'stopped'
  /** Ctrl-C / SIGTERM: the accessories in progress were finished (resume). */
  | 'interrupted';

export class BatchError extends Error {
  constructor(
    readonly kind: BatchErrorKind,
    message: string,
    /** For 'interrupted': the signal's conventional exit status (130 for SIGINT, 143 for SIGTERM). */
    readonly exitStatus?: number,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

/** Where a batch prints (the CLI's CliIO has this shape; tests pass memory buffers). */
export interface BatchOutput {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Folder relative paths are resolved against. */
  cwd: string;
  /** Interactive terminal: progress bars only then. */
  isTTY: boolean;
}
