/** Where bundles live, relative to the repository root (so external packages resolve). */
export declare const CACHE_SUBDIR: string;

/**
 * Absolute path of the current esbuild bundle of `entry` (relative to `root`), building it first
 * if a source it is made of, or package-lock.json, changed since the last build.
 */
export declare function cachedBundle(options: { root: string; entry: string; name: string; cacheDir?: string }): Promise<string>;
