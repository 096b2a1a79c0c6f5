// Files, the one way: atomic writes (temp file created exclusively under an unpredictable name,
// then renamed; see atomic.mjs), `mkdir -p` that always ends (ensure-dir.ts), input files that
// refuse devices (input-file.ts), and the plain-words wording of fs errors. Everything in src-main
// that writes a file goes through here (test/unit/layering.test.ts checks that no other module
// renames files into place itself).
import { dirname } from 'node:path';
import * as atomic from './atomic.mjs';
import { ensureDirSync } from './ensure-dir.ts';

export { ensureDirSync } from './ensure-dir.ts';
export { NOT_A_FILE, readInputFile, readInputFileSync } from './input-file.ts';
export { describeFsError, fileWriteError, FileWriteError, removeStaleTempFiles, TEMP_FILE_PATTERN, type AtomicWriteOptions } from './atomic.mjs';

type Options = number | atomic.AtomicWriteOptions;

/** Writes `data` to `path` atomically (its folder is created if missing). A number is the mode. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options?: Options): Promise<void> {
  await writeFileAtomicFrom(path, [data], options);
}

/** writeFileAtomic for content produced piece by piece: the whole text is never one string. */
export async function writeFileAtomicFrom(path: string, pieces: Iterable<string | Uint8Array>, options?: Options): Promise<void> {
  ensureDirSync(dirname(path));
  await atomic.writeFileAtomicFrom(path, pieces, options);
}

/** Synchronous writeFileAtomic (worker threads, start-up code); the folder must exist. */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, options?: Options): void {
  atomic.writeFileAtomicSync(path, data, options);
}
