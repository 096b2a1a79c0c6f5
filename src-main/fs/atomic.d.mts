/** Options of an atomic write: the final file's exact mode, and whether an existing name may be replaced. */
export interface AtomicWriteOptions {
  /** Permission bits of the final file, set exactly (default: 0o666 less the umask). */
  mode?: number;
  /** false: refuse (code EEXIST) when the final name already exists (default true). */
  replace?: boolean;
}

/** A failed write, worded as `<path>: <reason>`; `code` is the fs error code. */
export declare class FileWriteError extends Error {
  readonly path: string;
  readonly code: string;
  constructor(path: string, code: string, message: string);
}

export declare const TEMP_FILE_PATTERN: RegExp;
export declare function describeFsError(code: string): string;
export declare function fileWriteError(path: string, err: unknown): Error;
export declare function tempPathFor(path: string): string;
export declare function writeFileAtomicSync(path: string, data: Uint8Array | string, options?: number | AtomicWriteOptions): void;
export declare function writeFileAtomicFromSync(path: string, pieces: Iterable<string | Uint8Array>, options?: number | AtomicWriteOptions): void;
export declare function writeFileAtomic(path: string, data: Uint8Array | string, options?: number | AtomicWriteOptions): Promise<void>;
export declare function writeFileAtomicFrom(path: string, pieces: Iterable<string | Uint8Array>, options?: number | AtomicWriteOptions): Promise<void>;
export declare function removeStaleTempFiles(dir: string, options?: { all?: boolean; maxAgeMs?: number; now?: number }): number;
