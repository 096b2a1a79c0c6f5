// `factory-station pool import|status`: identities generated offline by `batch`, handed out in order
// by `provision --pool` (and the app when the profile uses a pool).
import { describeFsError, readInputFile } from '../../fs/index.ts';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import type { PoolManifest } from '../../../shared/station/manifest.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, INIT_DB_OPTION, openStationDb, registryCliError } from '../db-option.ts';
import { VERSION } from '../version.ts';
import { loadProfile } from '../../station/profile-file.ts';
import { parsePoolManifest, ManifestError } from '../../../shared/station/manifest.ts';
import { addManifestToPool } from '../../station/pool-import.ts';
import { ProfileError } from '../../../shared/station/profile.ts';
import { Progress } from '../../batch/progress.ts';

export const DEF: CommandDef = {
  program: 'factory-station pool',
  summary: "Add a batch manifest's identities to a product's pool, or show how many are left.",
  synopsis: ['import --profile FILE [--db FILE|URL] [--init-db] MANIFEST.json', 'status --profile FILE [--db FILE|URL]'],
  description: `import  checks every identity of a batch manifest (valid code and ID, verifier recomputed) and adds
        them to the product's pool; identities whose setup code or setup ID the product already
        issued are skipped and listed by setup ID. Nothing is written (not even a new database)
        unless the whole manifest checks out.
status  prints how many pool identities are left.
On a line's registry (postgres://…) one import serves every station: each identity is handed
out once, whichever station asks.
The engineer's tool: no engineer PIN is asked for, even for a PIN-locked profile.`,
  args: { min: 1, max: 2, names: 'import MANIFEST.json or status' },
  options: { profile: { type: 'string', arg: 'FILE', help: 'product profile (JSON); required' }, ...DB_OPTION, ...INIT_DB_OPTION },
  examples: [
    'factory-station pool import --profile examples/fan/profile.json batch-out/homekit_manifest_12-05_10-00.json',
    'factory-station pool status --profile examples/fan/profile.json',
    'factory-station pool import --profile fan.json --db postgres://engineer@line-db:5432/line batch-out/homekit_manifest_12-05_10-00.json',
  ],
  exitCodes: COMMON_EXIT_CODES,
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as { profile?: string };
  const [sub, manifestPath] = parsed.positionals;
  if (sub !== 'import' && sub !== 'status') throw new CliError(`pool: '${sub}' is not import or status (see factory-station pool --help)`, 2);
  if (sub === 'import' && !manifestPath) throw new CliError('pool import: missing MANIFEST.json (see factory-station pool --help)', 2);
  if (sub === 'status' && manifestPath) throw new CliError(`pool status: unexpected argument '${manifestPath}' (see factory-station pool --help)`, 2);
  if (!values.profile) throw new CliError('pool: --profile FILE is required (see factory-station pool --help)', 2);
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
  const db = await openStationDb(io, parsed.values, `pool ${sub}`, { create: sub === 'import' });
  try {
    await db.upsertProduct(product);
    if (manifest) {
      let outcome;
      try {
        outcome = await addManifestToPool(db, product.id, manifest, path);
      } catch (err) {
        if (err instanceof ManifestError) throw new CliError(err.message, 1);
        throw registryCliError(`pool ${sub}`, err);
      }
      const { added, skipped } = outcome;
      if (skipped.length > 0) io.stderr(skippedReport(path, skipped));
      io.stdout(`imported ${added} identities; ${await db.poolRemaining(product.id)} in the pool of ${product.id}\n`);
    } else {
      io.stdout(`${await db.poolRemaining(product.id)} identities left in the pool of ${product.id}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** Entries left out because the product already issued their setup code (a few named, then a count). */
function skippedReport(path: string, entries: string[], shown = 10): string {
  const more = entries.length > shown ? ` and ${entries.length - shown} more` : '';
  return `${path}: skipped ${entries.length} whose setup code or setup ID was already issued for this product (never put in the pool): ${entries.slice(0, shown).join(', ')}${more}\n`;
}
