// Plumbing shared by every command: injectable output streams (so tests run commands in-process),
// a typed "operator error" that becomes one line on stderr, and the commands' way to atomic file
// writes (src-main/fs/). Only cli/ imports this module: nothing outside cli/ may (layering test).
import { describeFsError, writeFileAtomic, type AtomicWriteOptions } from '../fs/index.ts';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Directory relative paths are resolved against (process.cwd() for the real CLI). */
  cwd: string;
  /** Environment used for expansions (process.env for the real CLI). */
  env: Record<string, string | undefined>;
  /** Is stdout an interactive terminal (progress bars only then). */
  isTTY: boolean;
  /** Raw bytes to stdout (binary output to `-`); optional, commands refuse binary stdout without it. */
  stdoutBytes?(data: Uint8Array): void;
}

export function processIO(): CliIO {
  guardPipes();
  return {
    stdout: (t) => void (closedPipes.stdout || process.stdout.write(t)),
    stderr: (t) => void (closedPipes.stderr || process.stderr.write(t)),
    cwd: process.cwd(),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
    stdoutBytes: (d) => void (closedPipes.stdout || process.stdout.write(d)),
  };
}

/** Standard streams whose reader has gone (`factory-station … | head`): nothing more is written to them. */
const closedPipes = { stdout: false, stderr: false };
let pipesGuarded = false;

/**
 * Node reports a closed pipe (EPIPE) as an unhandled stream error, i.e. a stack trace. Here the
 * command just stops printing and finishes its work — a flash or a batch is never cut short
 * because the reader of its output went away.
 */
function guardPipes(): void {
  if (pipesGuarded) return;
  pipesGuarded = true;
  for (const key of ['stdout', 'stderr'] as const) {
    process[key].on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      closedPipes[key] = true;
    });
  }
}

/** In-memory IO for tests: collects what a command prints. */
export function memoryIO(cwd: string, env: Record<string, string | undefined> = {}): CliIO & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    cwd,
    env,
    isTTY: false,
    stdout(t: string) { io.out += t; },
    stderr(t: string) { io.err += t; },
  };
  return io;
}

/** An expected failure: printed as one line on stderr (no stack trace), exit with `exitCode`. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export { describeFsError, fileWriteError, writeFileAtomic, writeFileAtomicFrom } from '../fs/index.ts';

/** Collects several outputs and commits them together only when every one was produced. */
export class OutputSet {
  private readonly files: { path: string; data: Uint8Array | string; options?: number | AtomicWriteOptions }[] = [];
  /** A number is the file's mode; `{ replace: false }` never overwrites an existing file (keys). */
  add(path: string, data: Uint8Array | string, options?: number | AtomicWriteOptions): void {
    this.files.push({ path, data, options });
  }
  async commit(): Promise<void> {
    for (const f of this.files) await writeFileAtomic(f.path, f.data, f.options);
  }
}

/** Runs a command body, turning CliError (and any unexpected error) into a clean message + exit code. */
export async function runCommand(io: CliIO, body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (err) {
    if (err instanceof CliError) {
      if (err.message) io.stderr(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      return err.exitCode;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.path === 'string') {
      io.stderr(`error: ${e.path}: ${describeFsError(e.code)}\n`);
      return 1;
    }
    io.stderr(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
