// Adapter between the batch and the station core: the identity-pool manifest the station imports,
// and the registry check (--db) that keeps batch identities unique against production.
// INTERIM: replaced by the station's own format/registry once shared/station lands.
import { writeFileAtomic, CliError } from '../cli/io.ts';
import type { IdentityKind } from '../../shared/batch/identities.ts';
import type { JournalRunRecord } from '../../shared/batch/journal.ts';

export interface IdentityRegistry {
  isTaken(kind: IdentityKind, value: string): boolean;
  close(): void;
}

export function openIdentityRegistry(path: string): IdentityRegistry {
  throw new CliError(`--db ${path}: the station registry is not available in this build`, 1);
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
  const doc = {
    format: 'factory-station-identity-pool',
    version: 1,
    runId: input.run.runId,
    createdAt: input.run.createdAt,
    category: input.run.settings.category,
    units: input.units,
  };
  await writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
}
