// `mkdir -p` that always ends. Node's recursive mkdir (sync and async) loops forever where mkdir
// answers ENOENT for a parent that does exist — /proc, sysfs, some FUSE mounts — so an output path
// there would hang a CLI instead of failing. This walks up to the first existing folder and
// creates the missing ones one by one; any failure is thrown as the plain fs error.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function ensureDirSync(path: string, mode?: number): void {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (exists(dir)) break;
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, mode === undefined ? undefined : { mode });
    } catch (err) {
      // Created meanwhile by someone else: fine, as long as it is a folder.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory()) throw err;
    }
  }
}

/** Whether `dir` exists; throws ENOTDIR (as mkdir would) when it is something else. */
function exists(dir: string): boolean {
  try {
    if (statSync(dir).isDirectory()) return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const err = new Error(`ENOTDIR: not a directory, mkdir '${dir}'`) as NodeJS.ErrnoException;
  err.code = 'ENOTDIR';
  err.path = dir;
  throw err;
}
