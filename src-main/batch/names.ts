// File names of a batch's accessories: `<prefix>-<file id>` plus one suffix per output folder.
// Checked before the journal exists: a name the file system cannot hold would otherwise stop the
// run at its first accessory, and every --resume after it the same way.
import type { BatchSettings } from '../../shared/batch/journal.ts';

/** NAME_MAX of Linux and macOS file systems (bytes) — and what NTFS allows in UTF-16 units. */
export const NAME_MAX_BYTES = 255;

const UNIT_DIRS = ['csv', 'bin', 'homekit_setup_info'] as const;

/** Folders that hold one file per accessory. */
export function unitDirs(settings: BatchSettings): string[] {
  const dirs: string[] = [...UNIT_DIRS];
  if (settings.keygen) dirs.push('keys');
  if (settings.labels.mode === 'single' || settings.labels.mode === 'both') dirs.push('labels');
  return dirs;
}

/** Files of one accessory, relative to the output folder. */
export function unitFiles(name: string, settings: BatchSettings): string[] {
  const files = [`csv/${name}.csv`, `bin/${name}.bin`, `homekit_setup_info/${name}.txt`];
  if (settings.keygen) files.push(`keys/${name}-keys.bin`);
  if (settings.labels.mode === 'single' || settings.labels.mode === 'both') files.push(`labels/${name}.${settings.labels.format}`);
  return files;
}

/** The file id part of a name when it comes from the identity (same length for every accessory). */
export function sampleFileId(fileid: string): string | undefined {
  if (fileid === 'setup_code') return '000-00-000';
  if (fileid === 'setup_id') return 'XXXX';
  return undefined;
}

/** Why `<prefix>-<fileId>` cannot name the accessory's files, or undefined. */
export function unitNameProblem(prefix: string, fileId: string, settings: BatchSettings): string | undefined {
  const longest = unitFiles(`${prefix}-${fileId}`, settings)
    .map((f) => f.slice(f.indexOf('/') + 1))
    .reduce((a, b) => (byteLength(b) > byteLength(a) ? b : a));
  const bytes = byteLength(longest);
  if (bytes <= NAME_MAX_BYTES) return undefined;
  return `too long for a file name: its longest file name would be ${bytes} bytes (at most ${NAME_MAX_BYTES})`;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
