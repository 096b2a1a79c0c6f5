// `factory-station history`: provisioned units, or every attempt (runs, prints, label scans, failed
// ones included), from the production database — never their setup codes.
import { unitSummary } from '../../station/db.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, openStationDb } from '../db-option.ts';
import { CliError, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';
import { UNIT_STATUSES as STATUSES, type AttemptSummary, type UnitStatus } from '../../../shared/station/events.ts';

export const DEF: CommandDef = {
  program: 'factory-station history',
  summary: 'Show provisioned units, or every attempt, from the production database (never setup codes).',
  synopsis: ['[--db FILE] [--mac M] [--setup-id ID] [--serial SN] [--status S] [--product ID] [--json]', '--attempts [--failed] [--boot-log] [--db FILE] [--mac M] [--setup-id ID] [--product ID] [--json]'],
  description: `Units newest first, with their serial number, slot, status and why they failed. With --attempts:
every run, print and label scan, with where and why a failed one stopped; --boot-log adds what the
firmware printed at the boot check. --mac takes any form: 24:0A:C4, 240ac4, 24-0a-c4. Setup codes
are on the labels and in 'factory-station export'.`,
  options: {
    ...DB_OPTION,
    mac: { type: 'string', arg: 'M', help: '(part of) a MAC, any form' },
    'setup-id': { type: 'string', arg: 'ID', help: 'a setup ID (4 characters)' },
    serial: { type: 'string', arg: 'SN', help: 'a serial number (exact)' },
    status: { type: 'string', arg: 'S', help: `units in this status (${STATUSES.join(', ')})` },
    product: { type: 'string', arg: 'ID', help: 'only this product (profile id)' },
    attempts: { type: 'boolean', help: 'list attempts (runs, prints, scans) instead of units' },
    failed: { type: 'boolean', help: 'with --attempts: only the failed ones' },
    'boot-log': { type: 'boolean', help: 'with --attempts: each run\'s boot log under it (what the firmware printed at the boot check)' },
    json: { type: 'boolean', help: 'one JSON array instead of the table' },
  },
  examples: ['factory-station history --mac 240ac4', 'factory-station history --attempts --failed --boot-log'],
  exitCodes: COMMON_EXIT_CODES,
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as Record<string, string | undefined> & { json?: boolean; attempts?: boolean; failed?: boolean; 'boot-log'?: boolean };
  if (values.status && !STATUSES.includes(values.status as UnitStatus)) throw new CliError(`history: --status must be one of ${STATUSES.join(', ')}`, 2);
  if (values.failed && !values.attempts) throw new CliError('history: --failed goes with --attempts', 2);
  if (values['boot-log'] && !values.attempts) throw new CliError('history: --boot-log goes with --attempts', 2);
  if (values.serial !== undefined && values.attempts) throw new CliError('history: --serial lists units, not --attempts (use --mac or --setup-id)', 2);
  const db = openStationDb(io, parsed.values, 'history', { create: false });
  try {
    if (values.attempts) {
      const attempts = db.attempts.list({ mac: values.mac, setupId: values['setup-id'], product: values.product, outcome: values.failed ? 'failed' : undefined });
      printAttempts(attempts, values.json === true, values['boot-log'] === true, io);
      return 0;
    }
    const units = db.listUnits({ mac: values.mac, setupId: values['setup-id'], serial: values.serial, status: values.status as UnitStatus | undefined, product: values.product }).map(unitSummary);
    if (values.json) {
      io.stdout(`${JSON.stringify(units)}\n`);
      return 0;
    }
    table([['id', 'product', 'slot', 'mac', 'chip', 'setup id', 'serial', 'status', 'prints', 'updated', 'reason'], ...units.map((u) => [String(u.id), u.product, u.slot === null ? '' : String(u.slot), u.mac, u.chip ?? '', u.setupId, u.serial ?? '', u.status, String(u.labelPrintCount), u.updatedAt, u.status === 'failed' ? (u.failure ?? '') : ''])], io);
    io.stdout(`${units.length} unit(s)\n`);
    return 0;
  } finally {
    db.close();
  }
}

function printAttempts(attempts: AttemptSummary[], json: boolean, bootLogs: boolean, io: CliIO): void {
  if (json) return void io.stdout(`${JSON.stringify(bootLogs ? attempts : attempts.map(({ bootLog: _l, ...a }) => a))}\n`);
  const header = ['at', 'station', 'what', 'result', 'slot', 'unit', 'mac', 'stage', 'reason'];
  const row = (a: AttemptSummary) => [a.at, a.station, a.kind, a.outcome, a.slot === null ? '' : String(a.slot), a.unitId === null ? '' : String(a.unitId), a.mac ?? '', a.stage ?? '', a.message ?? ''];
  if (!bootLogs) table([header, ...attempts.map(row)], io);
  else for (const a of attempts) {
    table([header, row(a)], io);
    io.stdout(a.bootLog === null ? '  (no boot log)\n\n' : `${a.bootLog.split(/\r?\n/).map((l) => `  | ${l}`).join('\n')}\n\n`);
  }
  io.stdout(`${attempts.length} attempt(s)\n`);
}

function table(rows: string[][], io: CliIO): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.stdout(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}
