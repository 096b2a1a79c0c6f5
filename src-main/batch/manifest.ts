// Adapter between the batch and the station core: the identity-pool manifest the station imports
// (format in shared/station/manifest.ts), and the registry check (--db) that keeps batch identities
// unique against the production database.
import { existsSync } from 'node:fs';
import { writeFileAtomic, CliError } from '../cli/io.ts';
import { serializePoolManifest } from '../../shared/station/manifest.ts';
import type { IdentityKind } from '../../shared/batch/identities.ts';
import type { JournalRunRecord } from '../../shared/batch/journal.ts';

export interface IdentityRegistry {
  isTaken(kind: IdentityKind, value: string): boolean;
  close(): void;
}

/** The station database behind --db (SQLite loads only then: most batches do not need it). */
export async function openIdentityRegistry(path: string): Promise<IdentityRegistry> {
  if (!existsSync(path)) throw new CliError(`--db ${path}: no such station database`, 1);
  const { ProductionDb } = await import('../station/db.ts');
  const db = ProductionDb.open(path);
  return {
    isTaken: (kind, value) => (kind === 'setupCode' ? db.isCodeUsedAnywhere(value) : db.isSetupIdUsedAnywhere(value)),
    close: () => db.close(),
  };
}

export interface ManifestUnit {
  index: number;
  name: string;
  setupCode: string;
  setupId: string;
  payload: string;
  salt: string;
  verifier: string;
}

export async function writeBatchManifest(path: string, input: { run: JournalRunRecord; units: ManifestUnit[] }): Promise<void> {
  const text = serializePoolManifest({
    runId: input.run.runId,
    createdAt: input.run.createdAt,
    category: input.run.settings.category,
    identities: input.units.map((u) => ({ name: u.name, setupCode: u.setupCode, setupId: u.setupId, payload: u.payload, salt: fromHex(u.salt), verifier: fromHex(u.verifier) })),
  });
  await writeFileAtomic(path, text, 0o600);
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}
