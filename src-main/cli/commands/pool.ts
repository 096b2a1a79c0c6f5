// `factory-station pool import|status`: identities generated offline by `batch`, handed out in order
// by `provision --pool` (and the app when the profile uses a pool).
import { describeFsError, readInputFile } from '../../fs/index.ts';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import type { PoolManifest } from '../../../shared/station/manifest.ts';
import { parseCliArgs } from '../args.ts';
import { ProductionDb } from '../../station/db.ts';
import { loadProfile } from '../../station/profile-file.ts';
import { parsePoolManifest, ManifestError } from '../../../shared/station/manifest.ts';
import { addManifestToPool } from '../../station/pool-import.ts';
import { ProfileError } from '../../../shared/station/profile.ts';
import { Progress } from '../../batch/progress.ts';

export const USAGE = `usage: factory-station pool import --profile P.json [--db FILE] MANIFEST.json
       factory-station pool status --profile P.json [--db FILE]

import  checks every identity of a batch manifest (valid code and ID, verifier recomputed) and adds
        them to the product's pool; identities whose setup code or setup ID the product already
        issued are skipped and listed by setup ID. Nothing is written (not even a new database)
        unless the whole manifest checks out.
status  prints how many pool identities are left.

The engineer's tool: no engineer PIN is asked for, even for a PIN-locked profile.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { profile: { type: 'string' }, db: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) return (io.stdout(USAGE), 0);
  const [sub, manifestPath] = positionals;
  if ((sub !== 'import' && sub !== 'status') || !values.profile || (sub === 'import' && !manifestPath)) throw new CliError(USAGE, 2);
  let product;
  try {
    product = (await loadProfile(resolve(io.cwd, values.profile))).profile;
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(err.message, 1);
    throw err;
  }
  // The manifest is read and every entry checked before the database is opened (or created).
  let manifest: PoolManifest | undefined;
  const path = sub === 'import' ? resolve(io.cwd, manifestPath!) : '';
  if (sub === 'import') {
    const progress = new Progress(io, 1, 'identities checked');
    try {
      const text = new TextDecoder().decode(await readInputFile(path));
      manifest = parsePoolManifest(text, path, { category: product.category }, (done, total) => progress.update(done, total));
    } catch (err) {
      if (err instanceof ManifestError) throw new CliError(err.message, 1);
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string') throw new CliError(`${path}: ${describeFsError(code)}`, 1);
      throw err;
    } finally {
      progress.finish();
    }
  }
  const db = ProductionDb.open(resolve(io.cwd, values.db ?? 'station.db'));
  try {
    db.upsertProduct(product);
    if (manifest) {
      let outcome;
      try {
        outcome = addManifestToPool(db, product.id, manifest, path);
      } catch (err) {
        if (err instanceof ManifestError) throw new CliError(err.message, 1);
        throw err;
      }
      const { added, skipped } = outcome;
      if (skipped.length > 0) io.stderr(skippedReport(path, skipped));
      io.stdout(`imported ${added} identities; ${db.poolRemaining(product.id)} in the pool of ${product.id}\n`);
    } else {
      io.stdout(`${db.poolRemaining(product.id)} identities left in the pool of ${product.id}\n`);
    }
    return 0;
  } finally {
    db.close();
  }
}

/** Entries left out because the product already issued their setup code (a few named, then a count). */
function skippedReport(path: string, entries: string[], shown = 10): string {
  const more = entries.length > shown ? ` and ${entries.length - shown} more` : '';
  return `${path}: skipped ${entries.length} whose setup code or setup ID was already issued for this product (never put in the pool): ${entries.slice(0, shown).join(', ')}${more}\n`;
}
