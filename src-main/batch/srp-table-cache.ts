// The SRP fixed-base table (see shared/homekit/srp.ts) kept on disk between batch runs.
//
// Building it costs ~0.2 s — a sixth of a whole 1000-accessory batch here — and it never changes.
// Stored as V8's structured-clone serialization (the same bytes postMessage would make), loading
// it is a read, a SHA-256 and a ~10 ms deserialization. The same bytes go to the worker threads,
// which deserialize their own copy in parallel instead of waiting for a structured clone.
//
// Trust: the file lives next to the cached code bundles (node_modules/.cache), which the CLIs
// already run; the SHA-256 in its header catches a damaged file, and adoptSrpTable's structural
// check catches a table of the wrong shape or group. Anything that fails is rebuilt and replaced.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { adoptSrpTable, srpTableSnapshot } from '../../shared/homekit/srp.ts';
import { ensureDirSync, writeFileAtomicSync } from '../fs/index.ts';
import { CACHE_SUBDIR } from '../bundle/cache.mjs';
import { repositoryRoot } from './worker-script.ts';

const MAGIC = new TextEncoder().encode('HKFS-SRP-TABLE-1'); // 16 bytes
const DIGEST_BYTES = 32;
const HEADER_BYTES = MAGIC.length + DIGEST_BYTES;
const FILE_PREFIX = 'srp-table-';

/**
 * The table as V8 serialization bytes, in shared memory: what worker threads get (see
 * adoptSerializedSrpTable); nothing may write to it.
 */
export type SerializedSrpTable = Uint8Array;

export interface SrpTableSource {
  bytes: SerializedSrpTable;
  /** Where the table came from: the cache file, or built now (and stored, if `stored`). */
  origin: 'cache' | 'built';
  stored: boolean;
}

/** The CLIs' cache folder (node_modules/.cache/homekit-factory-station); undefined if not found. */
export function defaultSrpTableCache(): string | undefined {
  try {
    return join(repositoryRoot(), CACHE_SUBDIR);
  } catch {
    return undefined;
  }
}

/**
 * Name of the cache file: V8's serialization format may change between V8 versions, so each
 * version has its own file.
 */
export function srpTableCacheFile(cacheDir: string): string {
  return join(cacheDir, `${FILE_PREFIX}${process.versions.v8.replace(/[^0-9A-Za-z.]/g, '_')}.bin`);
}

/**
 * Makes the table available in this thread and returns it serialized for worker threads: from
 * `cacheDir` when a good copy is there, else built now and stored there for next time (best
 * effort: a read-only or missing folder only costs the build). No `cacheDir`: built, not stored.
 */
export function loadSrpTable(cacheDir: string | undefined): SrpTableSource {
  const file = cacheDir === undefined ? undefined : srpTableCacheFile(cacheDir);
  if (file) {
    const bytes = readCached(file);
    if (bytes) return { bytes, origin: 'cache', stored: true };
  }
  const serialized = serialize(srpTableSnapshot());
  const stored = file !== undefined && storeCached(cacheDir!, file, serialized);
  const bytes = new Uint8Array(new SharedArrayBuffer(serialized.length));
  bytes.set(serialized);
  return { bytes, origin: 'built', stored };
}

/** Adopts a table serialized by loadSrpTable (in a worker thread); throws if it is not the table. */
export function adoptSerializedSrpTable(bytes: SerializedSrpTable): void {
  let values: unknown;
  try {
    values = deserialize(bytes);
  } catch {
    throw new Error('adoptSerializedSrpTable: not a serialized SRP table');
  }
  if (!Array.isArray(values)) throw new Error('adoptSerializedSrpTable: not a serialized SRP table');
  adoptSrpTable(values as bigint[]);
}

/**
 * The payload of a good cache file, adopted in this thread; undefined if absent or not good. Read
 * into shared memory: worker threads then get it without a copy.
 */
function readCached(file: string): SerializedSrpTable | undefined {
  let data: Uint8Array;
  try {
    data = readIntoSharedMemory(file);
  } catch {
    return undefined;
  }
  if (data.length <= HEADER_BYTES || !sameBytes(data.subarray(0, MAGIC.length), MAGIC)) return undefined;
  const payload = data.subarray(HEADER_BYTES);
  const digest = createHash('sha256').update(payload).digest();
  if (!sameBytes(digest, data.subarray(MAGIC.length, HEADER_BYTES))) return undefined;
  try {
    adoptSerializedSrpTable(payload);
  } catch {
    return undefined;
  }
  return payload;
}

function readIntoSharedMemory(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const data = new Uint8Array(new SharedArrayBuffer(size));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, data, done, size - done, done);
      if (n === 0) throw new Error(`${file}: shorter than its size`);
      done += n;
    }
    return data;
  } finally {
    closeSync(fd);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Writes the cache file atomically (src-main/fs) and removes other V8 versions' files. */
function storeCached(cacheDir: string, file: string, payload: Uint8Array): boolean {
  try {
    ensureDirSync(cacheDir);
    const digest = createHash('sha256').update(payload).digest();
    writeFileAtomicSync(file, Buffer.concat([MAGIC, digest, payload]));
  } catch {
    return false; // the next run tries again
  }
  const keep = file.slice(cacheDir.length + 1);
  try {
    for (const name of readdirSync(cacheDir)) {
      if (name.startsWith(FILE_PREFIX) && name !== keep && name.endsWith('.bin')) rmSync(join(cacheDir, name), { force: true });
    }
  } catch {
    // another process is tidying up too
  }
  return true;
}
