// Cached esbuild bundles of our TypeScript entry points (plain JavaScript: the bins load it before
// any TypeScript loader exists).
//
// Running from source through tsx costs every CLI start ~0.3–0.6 s of transpiling and module
// hooks, and a worker thread as much again. So each entry point is bundled once with esbuild
// (code-split, so commands and label code still load only when used; npm packages stay external
// and load from node_modules) into node_modules/.cache/homekit-factory-station, and rebuilt when
// the hash of its inputs changes: every source file it is made of, package-lock.json (which pins
// node_modules, esbuild included), package.json and the tsconfig files.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic.mjs';

/** Where bundles live, relative to the repository root (so external packages resolve). */
export const CACHE_SUBDIR = join('node_modules', '.cache', 'homekit-factory-station');
/** Old bundle folders are removed after this long (a running process may still load its chunks). */
const STALE_MS = 24 * 3600 * 1000;

/**
 * @typedef {object} BuildRecord
 * @property {string} key      hash of the inputs
 * @property {string[]} inputs source files of the bundle (relative to the root, node_modules excluded)
 * @property {string} dir      folder of the bundle, inside the cache folder
 */

/**
 * Absolute path of the current bundle of `entry`, building it first if needed.
 * @param {{ root: string, entry: string, name: string, cacheDir?: string }} options
 *   root: repository root; entry: entry point relative to it; name: the bundle's name;
 *   cacheDir: where bundles go (default CACHE_SUBDIR under the root; must be under the root).
 * @returns {Promise<string>}
 */
export async function cachedBundle({ root, entry, name, cacheDir = join(root, CACHE_SUBDIR) }) {
  return currentBundle(root, cacheDir, name) ?? (await buildBundle(root, cacheDir, name, entry));
}

/**
 * @param {string} root @param {string} cacheDir @param {string} name
 * @returns {string | undefined}
 */
function currentBundle(root, cacheDir, name) {
  try {
    /** @type {BuildRecord} */
    const record = JSON.parse(readFileSync(join(cacheDir, `${name}.json`), 'utf8'));
    if (inputsKey(root, record.inputs) !== record.key) return undefined;
    const main = join(cacheDir, record.dir, `${name}.mjs`);
    return existsSync(main) ? main : undefined;
  } catch {
    return undefined; // no record yet, or one of its inputs went away: build again
  }
}

/**
 * @param {string} root @param {string} cacheDir @param {string} name @param {string} entry
 * @returns {Promise<string>}
 */
async function buildBundle(root, cacheDir, name, entry) {
  const esbuild = await import('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  // The build goes to a fresh folder of its own (mkdtemp: unpredictable name, mode 0700), then is
  // renamed into place as a whole.
  const tmp = mkdtempSync(join(cacheDir, `.${name}-`));
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: { [name]: entry },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs)
      .map((p) => p.split('\\').join('/'))
      .filter((p) => !p.split('/').includes('node_modules'))
      .sort();
    const key = inputsKey(root, inputs);
    const dir = `${name}-${key.slice(0, 16)}`;
    chmodSync(tmp, 0o755); // mkdtemp made it 0700; the bundle is readable like the rest of node_modules
    try {
      renameSync(tmp, join(cacheDir, dir)); // a whole folder into place (files go through ../fs/atomic.mjs)
    } catch {
      if (!existsSync(join(cacheDir, dir, `${name}.mjs`))) throw new Error(`cannot store the ${name} bundle in ${cacheDir}`);
      // another process stored the same bundle first: use that one
    }
    /** @type {BuildRecord} */
    const record = { key, inputs, dir };
    writeFileAtomicSync(join(cacheDir, `${name}.json`), `${JSON.stringify(record)}\n`);
    removeStale(cacheDir, name, dir);
    return join(cacheDir, dir, `${name}.mjs`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Files besides the sources that change what esbuild makes: the packages and the TS settings. */
const SETTINGS_FILES = ['package-lock.json', 'package.json', 'tsconfig.json', 'tsconfig.base.json'];

/**
 * Hash of the inputs' contents and of SETTINGS_FILES (the lockfile pins the npm packages, esbuild
 * included).
 * @param {string} root @param {readonly string[]} inputs
 */
function inputsKey(root, inputs) {
  const h = createHash('sha256').update(`node ${process.versions.node.split('.')[0]}\0`);
  for (const file of SETTINGS_FILES) {
    try {
      h.update(`\0${file}\0`).update(readFileSync(join(root, file)));
    } catch {
      h.update('(none)'); // absent: the rest decides
    }
  }
  for (const input of inputs) h.update(`\0${input}\0`).update(readFileSync(join(root, input)));
  return h.digest('hex');
}

/** @param {string} cacheDir @param {string} name @param {string} keep */
function removeStale(cacheDir, name, keep) {
  const now = Date.now();
  for (const entry of readdirSync(cacheDir)) {
    // Bundle folders of this name, and temp folders a killed build left behind.
    if (entry === keep || !(entry.startsWith(`${name}-`) || entry.startsWith(`.${name}-`))) continue;
    try {
      if (now - statSync(join(cacheDir, entry)).mtimeMs > STALE_MS) rmSync(join(cacheDir, entry), { recursive: true, force: true });
    } catch {
      // another process removed it
    }
  }
}
