// The app's "Import batch manifest…": every entry is checked and its verifier recomputed first
// (the manifest's category must be the product's), so nothing is imported from a bad file; codes the
// product already issued are skipped (station/pool-import.ts). Verifiers are checked a slice at a
// time so the window, the port watcher and a unit being flashed are never held up for long.
import { basename } from 'node:path';
import type { PoolImportReply } from '../../shared/ipc.ts';
import { checkPoolVerifier, ManifestError, readPoolManifest, type PoolManifest } from '../../shared/station/manifest.ts';
import type { ProductProfile } from '../../shared/station/profile.ts';
import { describeFsError } from '../fs/index.ts';
import { readInputFile } from '../fs/index.ts';
import { RegistryUnavailableError, type Registry } from '../registry/index.ts';
import { addManifestToPool } from '../station/pool-import.ts';
import { AppError } from './errors.ts';

/** Verifiers checked between two turns of the event loop (~50 ms). */
const POOL_CHECK_SLICE = 64;

export async function importPoolManifest(
  db: Registry,
  product: ProductProfile,
  path: string,
  progress: (done: number, total: number) => void,
): Promise<PoolImportReply> {
  const file = basename(path);
  try {
    const manifest = readPoolManifest(new TextDecoder().decode(await readInputFile(path)), file, { category: product.category });
    await verifyPoolEntries(manifest, file, progress);
    const { added, skipped } = await addManifestToPool(db, product.id, manifest, file);
    return { file, added, skipped, remaining: await db.poolRemaining(product.id) };
  } catch (err) {
    if (err instanceof ManifestError) throw new AppError('manifest-invalid', err.message);
    if (err instanceof RegistryUnavailableError) throw new AppError('internal', `${err.message} Nothing was imported.`);
    const code = (err as NodeJS.ErrnoException).code;
    const why = typeof code === 'string' ? describeFsError(code) : err instanceof Error ? err.message : String(err);
    throw new AppError('manifest-invalid', `${file}: ${why}`);
  }
}

async function verifyPoolEntries(manifest: PoolManifest, file: string, progress: (done: number, total: number) => void): Promise<void> {
  const total = manifest.identities.length;
  for (let i = 0; i < total; i++) {
    checkPoolVerifier(manifest, i, file);
    if ((i + 1) % POOL_CHECK_SLICE === 0 || i + 1 === total) {
      progress(i + 1, total);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
