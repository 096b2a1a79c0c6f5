// A batch's serial numbers (`--serials PROFILE`): the product profile names the product whose
// counter they come from and the scheme; the block itself is taken from the station database
// (`--db`, batch/manifest.ts → station/serials.ts). Everything is checked before the run starts.
import { BatchError } from './errors.ts';
import { readTextInput } from './inputs.ts';
import { ProfileError, validateProfile } from '../../shared/station/profile.ts';
import { serialLabelText, usesCounter } from '../../shared/station/serial.ts';
import type { BatchSettings } from '../../shared/batch/journal.ts';

/** Reads `--serials PROFILE`: its serial scheme, for a product of the batch's category. */
export function loadSerialScheme(path: string, cwd: string, category: number): NonNullable<BatchSettings['serial']> {
  const text = readTextInput(path, cwd, 'product profile');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BatchError('input', `--serials ${path}: not valid JSON (a product profile)`);
  }
  let profile;
  try {
    profile = validateProfile(json, path);
  } catch (err) {
    if (err instanceof ProfileError) throw new BatchError('input', `--serials ${err.message}`);
    throw err;
  }
  if (!profile.serial) throw new BatchError('input', `--serials ${path}: the profile has no "serial" scheme`);
  if (!usesCounter(profile.serial)) throw new BatchError('input', `--serials ${path}: serial.format derives numbers from the MAC, which a batch does not know: use {counter}`);
  if (profile.category !== category) throw new BatchError('input', `--serials ${path}: the product is category ${profile.category}, the batch --cid ${category} (its manifest could not be imported for it)`);
  return { product: profile.id, profile: path, scheme: profile.serial };
}

/** Label data for a serial number (none without one). */
export function serialSample(serial: string | undefined): { serial?: string } {
  return serial === undefined ? {} : { serial: serialLabelText(serial) };
}
