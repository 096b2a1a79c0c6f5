// `factory-station history`: provisioned units from the production database (never their codes).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import { parseCliArgs } from '../args.ts';
import { ProductionDb, unitSummary } from '../../station/db.ts';
import type { UnitStatus } from '../../../shared/station/events.ts';

export const USAGE = `usage: factory-station history [--db FILE] [--mac M] [--setup-id ID] [--status S] [--product P] [--json]

Lists provisioned units, newest first (setup codes are not shown; they are on the labels and in
'factory-station export').
`;

const STATUSES: readonly UnitStatus[] = ['reserved', 'flashing', 'verified', 'label-pending', 'done', 'failed'];

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCliArgs(argv, {
    db: { type: 'string' }, mac: { type: 'string' }, 'setup-id': { type: 'string' }, status: { type: 'string' },
    product: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) return (io.stdout(USAGE), 0);
  const path = resolve(io.cwd, values.db ?? 'station.db');
  if (!existsSync(path)) throw new CliError(`history: ${path}: no such database`, 1);
  if (values.status && !STATUSES.includes(values.status as UnitStatus)) throw new CliError(`history: --status must be one of ${STATUSES.join(', ')}`, 2);
  const db = ProductionDb.open(path);
  try {
    const units = db.listUnits({ mac: values.mac, setupId: values['setup-id'], status: values.status as UnitStatus | undefined, product: values.product }).map(unitSummary);
    if (values.json) {
      io.stdout(`${JSON.stringify(units)}\n`);
      return 0;
    }
    const rows = [['id', 'product', 'mac', 'chip', 'setup id', 'status', 'prints', 'updated'], ...units.map((u) => [String(u.id), u.product, u.mac, u.chip ?? '', u.setupId, u.status, String(u.labelPrintCount), u.updatedAt])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) io.stdout(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    io.stdout(`${units.length} unit(s)\n`);
    return 0;
  } finally {
    db.close();
  }
}
