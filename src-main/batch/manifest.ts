// Adapter between the batch and the station core: the identity-pool manifest the station imports
// (format in shared/station/manifest.ts), and the registry check (--db) that keeps batch identities
// unique against the production database.
import { existsSync } from 'node:fs';
import { writeFileAtomicFrom } from '../fs/index.ts';
import { BatchError } from './errors.ts';
import { poolManifestText, type PoolManifestEntry } from '../../shared/station/manifest.ts';
import type { IdentityKind } from '../../shared/batch/identities.ts';
import type { JournalRunRecord } from '../../shared/batch/journal.ts';

export interface IdentityRegistry {
  isTaken(kind: IdentityKind, value: string): boolean;
  close(): void;
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
    if (err instanceof RegistrySchemaError || err instanceof RegistryUnavailableError) throw new BatchError('input', `--db ${err.message}`);
    throw err;
  } finally {
    await db.close();
  }
  return { isTaken: (kind, value) => taken[kind].has(value), close: () => undefined };
}

/** Writes the manifest a unit at a time (a 100 000-accessory manifest is ~130 MB of text). */
export async function writeBatchManifest(path: string, run: JournalRunRecord, units: Iterable<PoolManifestEntry>): Promise<void> {
  const head = { runId: run.runId, createdAt: run.createdAt, category: run.settings.category };
  await writeFileAtomicFrom(path, poolManifestText(head, units), 0o600);
}
