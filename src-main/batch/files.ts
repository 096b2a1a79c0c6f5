// Synchronous atomic file writes for the batch (used by worker threads, where blocking is fine):
// a temp file in the target folder, then rename — a reader (or a resumed run) sees either the old
// file or the whole new one. No fsync per file: the journal, not the files, is the durable record
// (a resumed run rebuilds any accessory whose files are not known to be complete).
import { renameSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { fileWriteError } from '../cli/io.ts';

const TEMP_SUFFIX = '.tmp';
/** Temp names unique per process and thread (cheaper than random names, thousands per second). */
let counter = 0;

export function writeFileAtomicSync(path: string, data: Uint8Array | string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}-${threadId}-${counter++}${TEMP_SUFFIX}`);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fileWriteError(path, err);
  }
}

/** Removes temp files a killed run left behind in `dir` (names `.<file>.<pid>-<thread>-<n>.tmp`). */
export function removeStaleTempFiles(dir: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (/^\..+\.\d+-\d+-\d+\.tmp$/.test(name)) {
      rmSync(join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}
