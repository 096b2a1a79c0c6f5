// Which files a profile saved from the station window may reference. The renderer is not trusted
// with the file system: a profile naming /etc/passwd as its flasher_args.json would make main read
// it. So a file reference the renderer sends must be
//   * inside the profiles folder (relative, no way out — `..` or a symlink pointing out), or
//   * a file the engineer picked in main's own file dialog in this session, or
//   * the value the profile on disk already has (written by an engineer, e.g. with the CLI).
// Loading a profile (profile-file.ts / image.ts) never quotes a referenced file's content in its
// errors either.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ProfileError, type ProductProfile } from '../../shared/station/profile.ts';

const FILE_FIELDS: readonly [field: string, get: (p: ProductProfile) => string | undefined][] = [
  ['firmware.partitionTable', (p) => p.firmware.partitionTable],
  ['firmware.flasherArgs', (p) => p.firmware.flasherArgs],
  ['customData.csv', (p) => p.customData?.csv],
  ['encryption.keysFile', (p) => p.encryption?.keysFile],
];

/** Files the engineer chose in main's file dialog (absolute, resolved). */
export class PickedFiles {
  private readonly paths = new Set<string>();

  remember(path: string): void {
    this.paths.add(resolve(path));
  }

  has(path: string): boolean {
    return this.paths.has(resolve(path));
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The real path (symlinks followed) of an existing file, else the path itself. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Throws ProfileError (naming the field) for a file reference the renderer may not make; see the
 * file comment. `existing` is the profile as it is on disk (null for a new one).
 */
export function checkProfileReferences(profile: ProductProfile, options: { profilesDir: string; picked: PickedFiles; existing: ProductProfile | null; source: string }): void {
  const dir = resolve(options.profilesDir);
  for (const [field, get] of FILE_FIELDS) {
    const value = get(profile);
    if (value === undefined) continue;
    if (options.existing && get(options.existing) === value) continue;
    const path = resolve(dir, value);
    if (options.picked.has(path)) continue;
    if (!isAbsolute(value) && inside(dir, path) && inside(real(dir), real(path))) continue;
    throw new ProfileError(
      field,
      `${value} is outside the profiles folder: choose it with the file picker (Browse…), or copy it into ${dir} and name it relative to it`,
      options.source,
    );
  }
}
