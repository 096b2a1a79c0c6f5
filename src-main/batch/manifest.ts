// Adapter between the batch and the station core: the identity-pool manifest the station imports
// (format in shared/station/manifest.ts), and the registry (--db) that keeps batch identities
// unique against the production database and gives a batch its block of serial numbers.
import { existsSync } from 'node:fs';
import { writeFileAtomicFrom } from '../fs/index.ts';
import { BatchError } from './errors.ts';
import { poolManifestText, type PoolManifestEntry } from '../../shared/station/manifest.ts';
import type { IdentityKind } from '../../shared/batch/identities.ts';
import type { JournalRunRecord } from '../../shared/batch/journal.ts';
import type { SerialScheme } from '../../shared/station/serial.ts';

export interface IdentityRegistry {
  /** Read once when the registry is opened (the draw asks it for every value). */
  isTaken(kind: IdentityKind, value: string): boolean;
  /** The run's serial numbers from the product's counter (the same block when asked again for the run). */
  reserveSerials(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The station registry behind --db: a SQLite file or a line's postgres:// URL. Every setup code and
 * setup ID it holds (any product, any station) is read once, before the first identity is drawn;
 * the registry loads only then (most batches do not need it). A station that issues a value while
 * the batch runs is caught when the manifest is imported: `pool import` checks every entry against
 * the registry again and skips the taken ones.
 */
export async function openIdentityRegistry(where: string, cwd: string): Promise<IdentityRegistry> {
  const { openRegistry, parseLocation, LocationError, RegistrySchemaError, RegistryUnavailableError } = await import('../registry/index.ts');
  let location;
  try {
    location = parseLocation(where, cwd);
  } catch (err) {
    if (err instanceof LocationError) throw new BatchError('input', `--db: ${err.message}`);
    throw err;
  }
  if (location.engine === 'sqlite' && !existsSync(location.path)) throw new BatchError('input', `--db ${location.path}: no such station database`);
  const db = openRegistry(location, { retryForMs: 15_000 });
  const taken = { setupCode: new Set<string>(), setupId: new Set<string>() };
  try {
    for (const kind of ['setupCode', 'setupId'] as const) for await (const page of db.issuedValues(kind)) for (const v of page) taken[kind].add(v);
  } catch (err) {
    await db.close();
    if (err instanceof RegistrySchemaError || err instanceof RegistryUnavailableError) throw new BatchError('input', `--db ${err.message}`);
    throw err;
  }
  return {
    isTaken: (kind, value) => taken[kind].has(value),
    reserveSerials: async (product, scheme, request) => (await db.reserveSerialBlock(product, scheme, request)).serials,
    close: () => db.close(),
  };
}

/** Writes the manifest a unit at a time (a 100 000-accessory manifest is ~130 MB of text). */
export async function writeBatchManifest(path: string, run: JournalRunRecord, units: Iterable<PoolManifestEntry>): Promise<void> {
  const head = { runId: run.runId, createdAt: run.createdAt, category: run.settings.category, ...(run.settings.serial ? { serialProduct: run.settings.serial.product } : {}) };
  await writeFileAtomicFrom(path, poolManifestText(head, units), 0o600);
}
