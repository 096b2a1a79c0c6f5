// `factory-station export --db FILE OUT.csv`: the production manifest (it holds setup codes: 0600).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { parseCliArgs } from '../args.ts';
import { ProductionDb } from '../../station/db.ts';

export const USAGE = `usage: factory-station export --db FILE OUT.csv [--product P]

Writes the production manifest (one row per unit: MAC, chip, setup ID, setup code, payload,
status, dates, label prints) as CSV. The file holds setup codes and is created with mode 0600.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCliArgs(argv, { db: { type: 'string' }, product: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGE);
  if (values.help) return (io.stdout(USAGE), 0);
  if (!values.db || positionals.length !== 1) throw new CliError(`export: --db FILE and one output file are required\n${USAGE}`, 2);
  const path = resolve(io.cwd, values.db);
  if (!existsSync(path)) throw new CliError(`export: ${path}: no such database`, 1);
  const db = ProductionDb.open(path);
  try {
    const out = resolve(io.cwd, positionals[0]!);
    await writeFileAtomic(out, db.exportManifestCsv(values.product), 0o600);
    io.stdout(`${out}\n`);
    return 0;
  } finally {
    db.close();
  }
}
