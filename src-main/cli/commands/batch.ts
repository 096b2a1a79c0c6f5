// `factory-station batch`: offline batch generation, compatible with hk_mfg_gen.py.
import { existsSync } from 'node:fs';
import { join, resolve, extname, basename, isAbsolute } from 'node:path';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { HELP, parseBatchArgs } from '../batch-args.ts';
import { resumeBatch, runNewBatch } from '../../batch/run.ts';
import { BatchError } from '../../batch/errors.ts';
import { buildKeysPartition, generateNvsKeys } from '../../../shared/nvs/keys.ts';

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parseBatchArgs(argv);
  switch (args.mode) {
    case 'help':
      io.stdout(HELP);
      return 0;
    case 'keys-only':
      await keysOnly(args.outdir, args.keyfile, io);
      return 0;
    case 'resume':
      await worded(resumeBatch(args, io));
      return 0;
    case 'generate':
      await worded(runNewBatch(args, io));
      return 0;
  }
}

/** The batch's typed errors as the command line reports them: one line (or two) and an exit status. */
async function worded(run: Promise<unknown>): Promise<void> {
  try {
    await run;
  } catch (err) {
    if (err instanceof BatchError) throw new CliError(err.message, err.kind === 'interrupted' ? (err.exitStatus ?? 130) : 1);
    throw err;
  }
}

/** hk_mfg_gen.py --keygen true without --size: one key file, keys/<keyfile or encryption_keys_MM-DD_HH-MM>.bin. */
async function keysOnly(outdir: string, keyfile: string | undefined, io: CliIO): Promise<void> {
  let name: string;
  if (keyfile !== undefined) {
    if (isAbsolute(keyfile) || /[/\\]/.test(keyfile)) throw new CliError('--keyfile: give a file name (it is written to <outdir>/keys/)', 1);
    const ext = extname(keyfile);
    if (ext && ext !== '.bin') throw new CliError('--keyfile argument can be a filename with no extension or .bin extension only', 1);
    name = ext ? keyfile : `${keyfile}.bin`;
  } else {
    const now = new Date();
    const p = (n: number) => String(n).padStart(2, '0');
    name = `encryption_keys_${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}.bin`;
  }
  const path = join(resolve(io.cwd, outdir), 'keys', name);
  // Never overwrite a key: images encrypted with it would become unreadable (checked first for a
  // clear message, and again by the write itself, which never replaces an existing name).
  const exists = () => new CliError(`${join(outdir, 'keys', basename(path))} already exists; keys are never overwritten`, 1);
  if (existsSync(path)) throw exists();
  try {
    await writeFileAtomic(path, buildKeysPartition(generateNvsKeys()), { mode: 0o600, replace: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw exists();
    throw err;
  }
  io.stdout(`Encryption keys binary created: ${join(outdir, 'keys', name)}\n`);
}
