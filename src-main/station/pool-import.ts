// Adding a checked batch manifest to a product's identity pool: one rule for `pool import` and the
// app. Identities whose setup code or setup ID the product already issued (the issuing policy,
// shared/station/identity-policy.ts) are skipped, named by setup ID (never by file name, which can
// be the code); a manifest that adds nothing is refused.
import { ManifestError, poolEntryName, type PoolManifest } from '../../shared/station/manifest.ts';
import type { Registry } from '../registry/index.ts';

export interface PoolImportOutcome {
  added: number;
  /** Entries left out, as messages name them ("units[17] (setup ID K05T)", "… (setup ID K05T: ID already issued)"). */
  skipped: string[];
}

export async function addManifestToPool(db: Registry, productId: string, manifest: PoolManifest, source: string): Promise<PoolImportOutcome> {
  if (manifest.serialProduct !== undefined && manifest.serialProduct !== productId) {
    throw new ManifestError(source, 'serialProduct', `the entries carry serial numbers of product ${manifest.serialProduct}, not of ${productId}`);
  }
  const { added, skipped } = await db.importPool(productId, manifest.identities, manifest.runId);
  if (added === 0 && skipped.length > 0) {
    throw new ManifestError(source, 'units', 'every identity in it was already issued for this product (imported before?): nothing imported');
  }
  return {
    added,
    skipped: skipped.map(({ index, conflict }) => {
      const name = poolEntryName(index, manifest.identities[index]!.setupId);
      if (conflict === 'serial') return `${name}: serial number ${manifest.identities[index]!.serial} already issued`;
      return conflict === 'setupId' ? `${name}: setup ID already issued` : name;
    }),
  };
}
