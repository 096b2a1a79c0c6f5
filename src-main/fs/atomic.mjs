// The one way this project writes a file (plain JavaScript: the bundle cache loads it before any
// TypeScript loader exists; everything else imports it through ./index.ts).
//
// A write goes to a temp file in the target's folder and is then renamed over the target, so a
// reader (or a resumed run) sees the old file or the whole new one, never half of it. The temp file:
//   * has an unpredictable name (`.<name>.<pid>.<16 random hex>.tmp`), and
//   * is created exclusively (O_CREAT | O_EXCL, plus O_NOFOLLOW where the platform has it),
// so a file or symlink planted in a shared output folder can neither receive the content (setup
// codes, keys) nor become the final file. The final name is replaced by rename(2), which never
// follows a symlink found there: the link itself is replaced. The mode asked for is set on the
// file itself (fchmod), whatever the umask. With `replace: false` an existing final name (file or
// symlink) is never replaced: the temp file is hard-linked to it, which fails if the name exists.
//
// Temp files of a process that was killed stay behind; removeStaleTempFiles() (batch --resume,
// station start-up) removes those whose process is gone, and any older than a day.
import { closeSync, constants, fchmodSync, linkSync, lstatSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open, link, lstat, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** Exclusive create of the temp file: fails if anything (a planted symlink included) has its name. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW;
/** Text gathered per write of a streamed file: few system calls, little memory. */
const STREAM_CHUNK = 1 << 20;
/** The target's name is cut to this many characters in its temp name (the temp name must fit NAME_MAX too). */
const NAME_IN_TEMP = 96;

/** Temp files this module makes: `.<name>.<pid>.<16 hex>.tmp`. */
export const TEMP_FILE_PATTERN = /^\..*\.(\d+)\.[0-9a-f]{16}\.tmp$/;
/** Temp names of the copies this module replaced (cli/io.ts, batch/files.ts): removed by age or on request only. */
const LEGACY_TEMP_PATTERNS = [/^\..+\.[0-9a-f]{12}\.tmp$/, /^\..+\.\d+-\d+-\d+\.tmp$/];
const DAY_MS = 24 * 3600 * 1000;

/**
 * A file-system failure as one line naming the file it was for: Node's own message for a failed
 * write names no file ("ENOSPC: no space left on device, write"), and a temp file's name means
 * nothing to an operator. `code` and `path` stay available to callers that word it themselves.
 */
export class FileWriteError extends Error {
  /** @param {string} path @param {string} code @param {string} message */
  constructor(path, code, message) {
    super(message);
    this.name = 'FileWriteError';
    this.path = path;
    this.code = code;
  }
}

/** @param {string} code */
export function describeFsError(code) {
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ENOSPC': return 'no space left on device';
    case 'EEXIST': return 'already exists';
    case 'ENAMETOOLONG': return 'file name too long';
    case 'EFTYPE': return 'a device, not a file';
    default: return code;
  }
}

/** @param {string} path @param {unknown} err @returns {Error} */
export function fileWriteError(path, err) {
  if (err instanceof FileWriteError) return err;
  const code = /** @type {NodeJS.ErrnoException | undefined} */ (err)?.code;
  return typeof code === 'string' ? new FileWriteError(path, code, `${path}: ${describeFsError(code)}`) : /** @type {Error} */ (err);
}

/** A fresh, unpredictable temp name next to `path`. @param {string} path */
export function tempPathFor(path) {
  return join(dirname(path), `.${basename(path).slice(0, NAME_IN_TEMP)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
}

/** @param {string | Uint8Array} piece */
function bytesOf(piece) {
  return typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
}

/**
 * @typedef {object} AtomicWriteOptions
 * @property {number} [mode]     permission bits of the final file (set exactly; default 0o666 less the umask)
 * @property {boolean} [replace] false: refuse (EEXIST) when the final name exists (default true)
 */

/** @param {number | AtomicWriteOptions | undefined} options @returns {AtomicWriteOptions} */
function normalize(options) {
  return typeof options === 'number' ? { mode: options } : (options ?? {});
}

/**
 * Writes `pieces` (strings are UTF-8) to `path` atomically; see the file comment.
 * @param {string} path
 * @param {Iterable<string | Uint8Array>} pieces
 * @param {number | AtomicWriteOptions} [options]
 */
export function writeFileAtomicFromSync(path, pieces, options) {
  const { mode, replace = true } = normalize(options);
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const fd = openSync(tmp, CREATE_FLAGS, mode ?? 0o666);
    created = true;
    try {
      let pending = '';
      const flush = (/** @type {string | Uint8Array} */ data) => {
        const buf = bytesOf(data);
        for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      };
      for (const piece of pieces) {
        if (typeof piece !== 'string') {
          if (pending) flush(pending);
          pending = '';
          flush(piece);
        } else if ((pending += piece).length >= STREAM_CHUNK) {
          flush(pending);
          pending = '';
        }
      }
      if (pending) flush(pending);
      if (mode !== undefined) fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    commitSync(tmp, path, replace);
    created = false;
  } catch (err) {
    if (created) rmSync(tmp, { force: true });
    throw fileWriteError(path, err);
  }
}

/**
 * @param {string} path @param {Uint8Array | string} data @param {number | AtomicWriteOptions} [options]
 */
export function writeFileAtomicSync(path, data, options) {
  writeFileAtomicFromSync(path, [data], options);
}

/**
 * Async twin of writeFileAtomicFromSync, for content produced piece by piece (a large batch's
 * master files): the whole text never has to be one string in memory.
 * @param {string} path
 * @param {Iterable<string | Uint8Array>} pieces
 * @param {number | AtomicWriteOptions} [options]
 */
export async function writeFileAtomicFrom(path, pieces, options) {
  const { mode, replace = true } = normalize(options);
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const handle = await open(tmp, CREATE_FLAGS, mode ?? 0o666);
    created = true;
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
      if (mode !== undefined) await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await commit(tmp, path, replace);
    created = false;
  } catch (err) {
    if (created) await rm(tmp, { force: true });
    throw fileWriteError(path, err);
  }
}

/** @param {string} path @param {Uint8Array | string} data @param {number | AtomicWriteOptions} [options] */
export async function writeFileAtomic(path, data, options) {
  await writeFileAtomicFrom(path, [data], options);
}

/** @param {unknown} err */
function linkUnsupported(err) {
  const code = /** @type {NodeJS.ErrnoException} */ (err)?.code;
  return code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS';
}

/** @param {string} path */
function existsErr(path) {
  const e = /** @type {NodeJS.ErrnoException} */ (new Error(`EEXIST: file already exists, '${path}'`));
  e.code = 'EEXIST';
  e.path = path;
  return e;
}

/** @param {string} tmp @param {string} path @param {boolean} replace */
function commitSync(tmp, path, replace) {
  if (replace) return renameSync(tmp, path);
  try {
    linkSync(tmp, path); // fails with EEXIST when the name exists (a symlink there included)
  } catch (err) {
    if (!linkUnsupported(err)) throw err;
    // A file system without hard links (FAT): check, then rename (a small window, no better way there).
    if (lexists(path)) throw existsErr(path);
    return renameSync(tmp, path);
  }
  unlinkSync(tmp);
}

/** @param {string} tmp @param {string} path @param {boolean} replace */
async function commit(tmp, path, replace) {
  if (replace) return rename(tmp, path);
  try {
    await link(tmp, path);
  } catch (err) {
    if (!linkUnsupported(err)) throw err;
    if (await lstat(path).then(() => true, () => false)) throw existsErr(path);
    return rename(tmp, path);
  }
  await unlink(tmp);
}

/** @param {string} path */
function lexists(path) {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** @param {number} pid */
function processAlive(pid) {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM'; // exists, another user's
  }
}

/**
 * Removes the temp files a killed writer left in `dir` (not in its sub-folders): those whose
 * process is gone, and any older than `maxAgeMs` (a day; a process id may have been reused, or the
 * folder shared by another machine). `all: true` removes every temp file of this module's naming
 * (and of the older copies it replaced): only for a caller that owns the folder exclusively.
 * Returns how many were removed; a missing folder has none.
 * @param {string} dir
 * @param {{ all?: boolean, maxAgeMs?: number, now?: number }} [options]
 */
export function removeStaleTempFiles(dir, options = {}) {
  const { all = false, maxAgeMs = DAY_MS, now = Date.now() } = options;
  /** @type {string[]} */
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const ours = TEMP_FILE_PATTERN.exec(name);
    const legacy = !ours && LEGACY_TEMP_PATTERNS.some((p) => p.test(name));
    if (!ours && !legacy) continue;
    const path = join(dir, name);
    let stale = all;
    if (!stale && ours && !processAlive(Number(ours[1]))) stale = true;
    if (!stale) {
      try {
        stale = now - statSync(path).mtimeMs > maxAgeMs;
      } catch {
        continue; // gone meanwhile
      }
    }
    if (!stale) continue;
    try {
      if (!lstatSync(path).isFile() && !lstatSync(path).isSymbolicLink()) continue; // never a folder
      rmSync(path, { force: true });
      removed++;
    } catch {
      // removed by someone else meanwhile
    }
  }
  return removed;
}
