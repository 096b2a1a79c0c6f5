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

/** The station database behind --db (SQLite loads only then: most batches do not need it). */
export async function openIdentityRegistry(path: string): Promise<IdentityRegistry> {
  if (!existsSync(path)) throw new BatchError('input', `--db ${path}: no such station database`);
  const { ProductionDb } = await import('../station/db.ts');
  const db = ProductionDb.open(path);
  return {
    isTaken: (kind, value) => (kind === 'setupCode' ? db.isCodeUsedAnywhere(value) : db.isSetupIdUsedAnywhere(value)),
    close: () => db.close(),
  };
}

/** Writes the manifest a unit at a time (a 100 000-accessory manifest is ~130 MB of text). */
export async function writeBatchManifest(path: string, run: JournalRunRecord, units: Iterable<PoolManifestEntry>): Promise<void> {
  const head = { runId: run.runId, createdAt: run.createdAt, category: run.settings.category };
  await writeFileAtomicFrom(path, poolManifestText(head, units), 0o600);
}
