// Plumbing shared by every command: injectable output streams (so tests run commands in-process),
// a typed "operator error" that becomes one line on stderr, and atomic file writes.
import { open, rename, rm } from 'node:fs/promises';
import { ensureDirSync } from '../ensure-dir.ts';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NOT_A_FILE } from '../input-file.ts';

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

/**
 * A file-system failure as one line naming the file it was for: Node's own message for a failed
 * write names no file ("ENOSPC: no space left on device, write"), and a temp file's name means
 * nothing to an operator.
 */
export function fileWriteError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? new Error(`${path}: ${describeFsError(code)}`) : (err as Error);
}

/** Write via a temp file in the same directory, then rename: readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode?: number): Promise<void> {
  await writeFileAtomicFrom(path, [data], mode);
}

/** Text gathered per write of a streamed file: few system calls, little memory. */
const STREAM_CHUNK = 1 << 20;

/**
 * writeFileAtomic for content produced piece by piece (a large batch's master files): the whole
 * text never has to be one string in memory.
 */
export async function writeFileAtomicFrom(path: string, pieces: Iterable<string | Uint8Array>, mode?: number): Promise<void> {
  ensureDirSync(dirname(path));
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      // FileHandle.writeFile writes all of its data, from the current position.
      let pending = '';
      for (const piece of pieces) {
        if (typeof piece !== 'string') {
          if (pending) await handle.writeFile(pending);
          pending = '';
          await handle.writeFile(piece);
        } else if ((pending += piece).length >= STREAM_CHUNK) {
          await handle.writeFile(pending);
          pending = '';
        }
      }
      if (pending) await handle.writeFile(pending);
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw fileWriteError(path, err);
  }
}

/** Collects several outputs and commits them together only when every one was produced. */
export class OutputSet {
  private readonly files: { path: string; data: Uint8Array | string; mode?: number }[] = [];
  add(path: string, data: Uint8Array | string, mode?: number): void {
    this.files.push({ path, data, mode });
  }
  async commit(): Promise<void> {
    for (const f of this.files) await writeFileAtomic(f.path, f.data, f.mode);
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

export function describeFsError(code: string): string {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ENOSPC': return 'no space left on device';
    case NOT_A_FILE: return 'a device, not a file';
    default: return code;
  }
}
