// `factory-station history`: provisioned units, or every attempt (runs, prints, label scans, failed
// ones included), from the production database — never their setup codes.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, type CliIO } from '../io.ts';
import { parseCliArgs } from '../args.ts';
import { ProductionDb, unitSummary } from '../../station/db.ts';
import { UNIT_STATUSES as STATUSES, type AttemptSummary, type UnitStatus } from '../../../shared/station/events.ts';

export const USAGE = `usage: factory-station history [--db FILE] [--mac M] [--setup-id ID] [--status S] [--product P] [--json]
       factory-station history --attempts [--failed] [--db FILE] [--mac M] [--setup-id ID] [--product P] [--json]

Lists provisioned units, newest first (setup codes are not shown; they are on the labels and in
'factory-station export'). With --attempts: every run, print and label scan, with where and why a
failed one stopped (--failed: only those). --mac takes any form: 24:0A:C4, 240ac4, 24-0a-c4.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCliArgs(argv, {
    db: { type: 'string' }, mac: { type: 'string' }, 'setup-id': { type: 'string' }, status: { type: 'string' },
    product: { type: 'string' }, json: { type: 'boolean' }, attempts: { type: 'boolean' }, failed: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  }, USAGE);
  if (values.help) return (io.stdout(USAGE), 0);
  const path = resolve(io.cwd, values.db ?? 'station.db');
  if (!existsSync(path)) throw new CliError(`history: ${path}: no such database`, 1);
  if (values.status && !STATUSES.includes(values.status as UnitStatus)) throw new CliError(`history: --status must be one of ${STATUSES.join(', ')}`, 2);
  if (values.failed && !values.attempts) throw new CliError('history: --failed goes with --attempts', 2);
  const db = ProductionDb.open(path);
  try {
    if (values.attempts) {
      const attempts = db.attempts.list({ mac: values.mac, setupId: values['setup-id'], product: values.product, outcome: values.failed ? 'failed' : undefined });
      printAttempts(attempts, values.json === true, io);
      return 0;
    }
    const units = db.listUnits({ mac: values.mac, setupId: values['setup-id'], status: values.status as UnitStatus | undefined, product: values.product }).map(unitSummary);
    if (values.json) {
      io.stdout(`${JSON.stringify(units)}\n`);
      return 0;
    }
    table([['id', 'product', 'slot', 'mac', 'chip', 'setup id', 'status', 'prints', 'updated'], ...units.map((u) => [String(u.id), u.product, u.slot === null ? '' : String(u.slot), u.mac, u.chip ?? '', u.setupId, u.status, String(u.labelPrintCount), u.updatedAt])], io);
    io.stdout(`${units.length} unit(s)\n`);
    return 0;
  } finally {
    db.close();
  }
}

function printAttempts(attempts: AttemptSummary[], json: boolean, io: CliIO): void {
  if (json) return void io.stdout(`${JSON.stringify(attempts)}\n`);
  const rows = attempts.map((a) => [a.at, a.station, a.kind, a.outcome, a.slot === null ? '' : String(a.slot), a.unitId === null ? '' : String(a.unitId), a.mac ?? '', a.stage ?? '', a.message ?? '']);
  table([['at', 'station', 'what', 'result', 'slot', 'unit', 'mac', 'stage', 'reason'], ...rows], io);
  io.stdout(`${attempts.length} attempt(s)\n`);
}

function table(rows: string[][], io: CliIO): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
