// A batch's serial numbers (`--serials PROFILE`): the product profile names the product whose
// counter they come from and the scheme; the block itself is taken from the station database
// (`--db`, batch/manifest.ts → registry/serials.ts). Everything is checked before the run starts.
import { BatchError } from './errors.ts';
import { readTextInput } from './inputs.ts';
import { ProfileError, validateProfile } from '../../shared/station/profile.ts';
import { serialLabelText, usesCounter } from '../../shared/station/serial.ts';
import { hostname } from 'node:os';
import type { BatchSettings } from '../../shared/batch/journal.ts';
import type { BatchConfig } from '../../shared/batch/custom-data.ts';
import type { IdentityRegistry } from './manifest.ts';

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

/**
 * Serial number of batch position `index`: the run's block, taken from the station database before
 * the first new identity is drawn (a resumed run gets the same block back; a run whose identities
 * are all journaled already carries their numbers and takes nothing).
 */
export async function serialSource(settings: BatchSettings, runId: string, journaled: number, registry: IdentityRegistry | undefined): Promise<(index: number) => string | undefined> {
  const spec = settings.serial;
  if (!spec || journaled >= settings.count) return () => undefined;
  if (!registry) throw new BatchError('input', `this batch issues serial numbers of ${spec.product}: give the station database with --db`);
  let block: string[];
  try {
    block = await registry.reserveSerials(spec.product, spec.scheme, { runId, count: settings.count, station: hostname(), date: new Date() });
  } catch (err) {
    throw new BatchError('input', `--db: the serial numbers of ${spec.product} could not be reserved: ${(err as Error).message}`);
  }
  return (index) => block[index];
}

/** The config may not write the serial number (the batch writes it): refused naming its line. */
export function checkConfigLeavesSerial(config: BatchConfig, at: { namespace: string; key: string }): void {
  let namespace: string | undefined;
  for (const l of config.lines) {
    if (l.type === 'namespace') namespace = l.key;
    else if (namespace === at.namespace && l.key === at.key) {
      throw new BatchError('input', `${config.file}, line ${l.line}: \`${l.key}\` in namespace \`${namespace}\` is the serial number the batch writes (--serials): remove it`);
    }
  }
}
