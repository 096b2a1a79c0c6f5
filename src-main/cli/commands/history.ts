// `factory-station history`: provisioned units, or every attempt (runs, prints, label scans, failed
// ones included), from the production database — never their setup codes.
import { unitSummary, type Registry } from '../../registry/index.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { DB_OPTION, openStationDb } from '../db-option.ts';
import { CliError, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';
import { UNIT_STATUSES as STATUSES, type AttemptSummary, type UnitStatus } from '../../../shared/station/events.ts';

export const DEF: CommandDef = {
  program: 'factory-station history',
  summary: 'Show provisioned units, or every attempt, from the production database (never setup codes).',
  synopsis: [
    '[--db FILE|URL] [--station NAME] [--mac M] [--setup-id ID] [--serial SN] [--status S] [--product ID] [--json]',
    '--attempts [--failed] [--boot-log] [--db FILE|URL] [--station NAME] [--mac M] [--setup-id ID] [--product ID] [--json]',
    '--stations [--hourly] [--from TIME] [--to TIME] [--db FILE|URL] [--product ID] [--json]',
  ],
  description: `Units newest first, with their station, slot, serial number, status and why they failed. With
--attempts: every run, print and label scan, with where and why a failed one stopped; --boot-log
adds what the firmware printed at the boot check. --mac takes any form: 24:0A:C4, 240ac4, 24-0a-c4.
Setup codes are on the labels and in 'factory-station export'.
On a line's registry (postgres://…) every station's units are there: --station shows one.
--stations: the line's view — per station, units made and failed runs, and both per hour, over
--from … --to (default: the last 24 hours); --hourly adds the counts hour by hour (UTC).`,
  options: {
    ...DB_OPTION,
    mac: { type: 'string', arg: 'M', help: '(part of) a MAC, any form' },
    'setup-id': { type: 'string', arg: 'ID', help: 'a setup ID (4 characters)' },
    serial: { type: 'string', arg: 'SN', help: 'a serial number (exact)' },
    status: { type: 'string', arg: 'S', help: `units in this status (${STATUSES.join(', ')})` },
    product: { type: 'string', arg: 'ID', help: 'only this product (profile id)' },
    station: { type: 'string', arg: 'NAME', help: 'only this station (default: the whole line)' },
    stations: { type: 'boolean', help: 'per-station counts of units and failures (the line\'s view)' },
    hourly: { type: 'boolean', help: 'with --stations: also hour by hour' },
    from: { type: 'string', arg: 'TIME', help: 'with --stations: from this date or time (ISO; default 24 hours ago)' },
    to: { type: 'string', arg: 'TIME', help: 'with --stations: until this date or time (ISO; default now)' },
    attempts: { type: 'boolean', help: 'list attempts (runs, prints, scans) instead of units' },
    failed: { type: 'boolean', help: 'with --attempts: only the failed ones' },
    'boot-log': { type: 'boolean', help: 'with --attempts: each run\'s boot log under it (what the firmware printed at the boot check)' },
    json: { type: 'boolean', help: 'one JSON array instead of the table' },
  },
  examples: ['factory-station history --mac 240ac4', 'factory-station history --attempts --failed --boot-log', 'factory-station history --db postgres://line-db/line --stations --hourly'],
  exitCodes: COMMON_EXIT_CODES,
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as Record<string, string | undefined> & { json?: boolean; attempts?: boolean; failed?: boolean; 'boot-log'?: boolean; stations?: boolean; hourly?: boolean };
  if (values.status && !STATUSES.includes(values.status as UnitStatus)) throw new CliError(`history: --status must be one of ${STATUSES.join(', ')}`, 2);
  if (values.failed && !values.attempts) throw new CliError('history: --failed goes with --attempts', 2);
  if (values['boot-log'] && !values.attempts) throw new CliError('history: --boot-log goes with --attempts', 2);
  if (values.serial !== undefined && values.attempts) throw new CliError('history: --serial lists units, not --attempts (use --mac or --setup-id)', 2);
  if (values.attempts && values.stations) throw new CliError('history: --attempts and --stations are two different views: give one', 2);
  for (const o of ['hourly', 'from', 'to'] as const) if (values[o] !== undefined && !values.stations) throw new CliError(`history: --${o} goes with --stations`, 2);
  const period = values.stations ? periodOf(values.from, values.to) : undefined;
  const db = await openStationDb(io, parsed.values, 'history', { create: false });
  try {
    if (period) return await printStations(db, { ...period, product: values.product, station: values.station }, values.hourly === true, values.json === true, io);
    if (values.attempts) {
      const attempts = await db.attempts.list({ mac: values.mac, setupId: values['setup-id'], product: values.product, station: values.station, outcome: values.failed ? 'failed' : undefined });
      printAttempts(attempts, values.json === true, values['boot-log'] === true, io);
      return 0;
    }
    const units = (await db.listUnits({ mac: values.mac, setupId: values['setup-id'], serial: values.serial, status: values.status as UnitStatus | undefined, product: values.product, station: values.station })).map(unitSummary);
    if (values.json) {
      io.stdout(`${JSON.stringify(units)}\n`);
      return 0;
    }
    table([['id', 'product', 'station', 'slot', 'mac', 'chip', 'setup id', 'serial', 'status', 'prints', 'updated', 'reason'], ...units.map((u) => [String(u.id), u.product, u.station, u.slot === null ? '' : String(u.slot), u.mac, u.chip ?? '', u.setupId, u.serial ?? '', u.status, String(u.labelPrintCount), u.updatedAt, u.status === 'failed' ? (u.failure ?? '') : ''])], io);
    io.stdout(`${units.length} unit(s)\n`);
    return 0;
  } finally {
    await db.close();
  }
}

/** --from / --to as ISO times (a date alone: its start; --to a date: its end). Default: the last 24 hours. */
function periodOf(from: string | undefined, to: string | undefined): { from: string; to: string } {
  const parse = (v: string, end: boolean, name: string) => {
    const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : v);
    if (Number.isNaN(t)) throw new CliError(`history: --${name} ${v}: not a date or time (2026-05-12 or 2026-05-12T08:00Z)`, 2);
    return new Date(t + (end && /^\d{4}-\d{2}-\d{2}$/.test(v) ? 1 : 0)).toISOString();
  };
  const end = to ? parse(to, true, 'to') : new Date().toISOString();
  const start = from ? parse(from, false, 'from') : new Date(Date.parse(end) - 24 * 3_600_000).toISOString();
  if (start >= end) throw new CliError('history: --from must be before --to', 2);
  return { from: start, to: end };
}

async function printStations(db: Registry, opts: { from: string; to: string; product?: string; station?: string }, hourly: boolean, json: boolean, io: CliIO): Promise<number> {
  const counts = await db.attempts.lineCounts(opts);
  if (json) return (io.stdout(`${JSON.stringify(hourly ? counts : { ...counts, hours: undefined })}\n`), 0);
  io.stdout(`${opts.from} … ${opts.to}\n`);
  table([['station', 'units', 'failures', 'units/h', 'failures/h'], ...counts.stations.map((s) => [s.station, String(s.units), String(s.failures), String(s.unitsPerHour), String(s.failuresPerHour)])], io);
  if (hourly) {
    io.stdout('\n');
    table([['hour (UTC)', 'station', 'units', 'failures'], ...counts.hours.map((h) => [`${h.hour}:00`, h.station, String(h.units), String(h.failures)])], io);
  }
  io.stdout(`${counts.stations.length} station(s)\n`);
  return 0;
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
