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
  isTaken(kind: IdentityKind, value: string): boolean;
  /** The run's serial numbers from the product's counter (the same block when asked again for the run). */
  reserveSerials(product: string, scheme: SerialScheme, request: { runId: string; count: number; station: string; date: Date }): string[];
  close(): void;
}

/** The station database behind --db (SQLite loads only then: most batches do not need it). */
export async function openIdentityRegistry(path: string): Promise<IdentityRegistry> {
  if (!existsSync(path)) throw new BatchError('input', `--db ${path}: no such station database`);
  const { ProductionDb } = await import('../station/db.ts');
  const db = ProductionDb.open(path);
  return {
    isTaken: (kind, value) => (kind === 'setupCode' ? db.isCodeUsedAnywhere(value) : db.isSetupIdUsedAnywhere(value)),
    reserveSerials: (product, scheme, request) => db.reserveSerialBlock(product, scheme, request).serials,
    close: () => db.close(),
  };
}

/** Writes the manifest a unit at a time (a 100 000-accessory manifest is ~130 MB of text). */
export async function writeBatchManifest(path: string, run: JournalRunRecord, units: Iterable<PoolManifestEntry>): Promise<void> {
  const head = { runId: run.runId, createdAt: run.createdAt, category: run.settings.category, ...(run.settings.serial ? { serialProduct: run.settings.serial.product } : {}) };
  await writeFileAtomicFrom(path, poolManifestText(head, units), 0o600);
}
