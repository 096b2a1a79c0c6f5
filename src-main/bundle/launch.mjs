// Starts a CLI: from its cached bundle when there is one or it can be built (fast start), else
// from the TypeScript sources through tsx (always works right after `npm ci`, just slower).
// FACTORY_STATION_NO_BUNDLE=1 forces the sources (e.g. for stack traces that name .ts lines).
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cachedBundle } from './cache.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs `main(argv)` of the entry point (relative to the repository root) and sets the exit code.
 * @param {string} entry @param {string} name
 */
export async function launch(entry, name) {
  /** @type {{ main(argv: string[]): Promise<number> } | undefined} */
  let mod;
  if (process.env.FACTORY_STATION_NO_BUNDLE !== '1') {
    try {
      mod = await import(pathToFileURL(await cachedBundle({ root: ROOT, entry, name })).href);
    } catch {
      mod = undefined; // no esbuild, read-only checkout, …: run from the sources
    }
  }
  if (!mod) {
    const { register } = await import('tsx/esm/api');
    register();
    mod = await import(pathToFileURL(join(ROOT, entry)).href);
  }
  process.exitCode = await mod.main(process.argv.slice(2));
}
