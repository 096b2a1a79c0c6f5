// The script a batch worker thread runs.
//
// Worker threads do not inherit the tsx loader, and loading the ~30 TypeScript modules of a worker
// through it costs ~0.3–0.5 s on a busy 2-core machine — about what a whole 1000-accessory batch
// takes. So a worker runs the cached esbuild bundle of worker.ts (../bundle/cache.mjs). If that
// cannot be built or stored (read-only checkout, no esbuild), it falls back to the tsx bootstrap:
// slower to start, same code.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedBundle } from '../bundle/cache.mjs';

const PACKAGE_NAME = 'homekit-factory-station';

export interface WorkerScript {
  url: URL;
  kind: 'bundle' | 'tsx';
  /** Why the tsx bootstrap is used (kind 'tsx'). */
  reason?: string;
}

/**
 * The worker bundle if it is current or can be built now; else the tsx bootstrap.
 * `cacheDir` is for tests (default: the bundle cache under node_modules).
 */
export async function batchWorkerScript(cacheDir?: string): Promise<WorkerScript> {
  let root: string | undefined;
  try {
    root = repositoryRoot();
    const path = await cachedBundle({ root, entry: 'src-main/batch/worker.ts', name: 'batch-worker', ...(cacheDir ? { cacheDir } : {}) });
    return { url: pathToFileURL(path), kind: 'bundle' };
  } catch (err) {
    const url = root ? pathToFileURL(join(root, 'src-main', 'batch', 'worker-bootstrap.mjs')) : new URL('./worker-bootstrap.mjs', import.meta.url);
    return { url, kind: 'tsx', reason: (err as Error).message };
  }
}

/**
 * The repository root: the nearest folder above this module with our package.json. (This module
 * may itself run from a bundle in node_modules/.cache, so no fixed relative path would do.)
 */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours (or unreadable): keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} folder above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
