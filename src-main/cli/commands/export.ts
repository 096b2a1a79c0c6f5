// `factory-station export [--db FILE] OUT.csv`: the production manifest (it holds setup codes: 0600).
import { resolve } from 'node:path';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, openStationDb } from '../db-option.ts';
import { writeFileAtomic, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';

export const DEF: CommandDef = {
  program: 'factory-station export',
  summary: 'Write the production manifest: one CSV row per unit, setup codes included (mode 0600).',
  synopsis: ['[--db FILE|URL] [--product ID] [--station NAME] OUT.csv'],
  description: 'Columns: product, MAC, chip, setup ID, setup code, payload, status, dates, label prints, station.\nOn a line\'s registry (postgres://…) the whole line, or one station with --station.',
  args: { min: 1, max: 1, names: 'the output file OUT.csv' },
  options: {
    ...DB_OPTION,
    product: { type: 'string', arg: 'ID', help: 'only this product (profile id); default: all' },
    station: { type: 'string', arg: 'NAME', help: 'only the units this station made; default: the whole line' },
  },
  examples: ['factory-station export manifest.csv', 'factory-station export --db /srv/station/production.db --product demo-smart-plug plugs.csv'],
  exitCodes: COMMON_EXIT_CODES,
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals, help, version } = parseCommand(DEF, argv);
  if (help) return (io.stdout(helpText(DEF)), 0);
  if (version) return (io.stdout(`${VERSION}\n`), 0);
  const db = await openStationDb(io, values, 'export', { create: false });
  try {
    const out = resolve(io.cwd, positionals[0]!);
    await writeFileAtomic(out, await db.exportManifestCsv({ product: values.product as string | undefined, station: values.station as string | undefined }), 0o600);
    io.stdout(`${out}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
