// `factory-station batch` command line: hk_mfg_gen.py's options (same names, same rules, same
// exit statuses: 2 for usage errors, 1 for bad values) plus the station's own additions.
import { availableParallelism } from 'node:os';
import { CliError } from './io.ts';
import { parseCommand, type CommandDef, type OptionDef } from './command.ts';
import type { GenerateArgs } from '../batch/run.ts';
import { parsePyIntBase0 } from '../../shared/nvs/values.ts';
import { fileNamePartProblem } from '../../shared/batch/custom-data.ts';
import { LABEL_PRESETS } from '../../shared/label/layout.ts';

export const USAGE = `usage: factory-station batch [-h] [--conf CONFIG_FILE] [--values VALUES_FILE]
                            [--prefix PREFIX] [--fileid FILEID] [--outdir OUTDIR]
                            [--cid CID] [--count COUNT] [--product-data PRODUCT_DATA]
                            [--size PART_SIZE] [--version {v1,v2}]
                            [--keygen {true,false}] [--encrypt {true,false}] [--keyfile KEYFILE]
                            [--labels {sheet,single,both,none}] [--label-format {pdf,svg}]
                            [--paper {A4,Letter}] [--label-size SIZE] [--flags FLAGS]
                            [--db DB_FILE] [--serials PROFILE] [--jobs N] [--resume]
`;

export const HELP = `${USAGE}
Generate HomeKit setup data and factory NVS images for many accessories at once, offline.
Options, output layout and file formats follow esp-homekit-sdk's hk_mfg_gen.py.

Modes:
  HomeKit only        --count N --prefix P --cid C --size S
  with custom data    --conf CONFIG --values VALUES --prefix P --cid C --size S [--fileid COLUMN]
  keys only           --keygen true [--keyfile NAME] [--outdir DIR]
  continue a run      --resume --outdir DIR

options (as hk_mfg_gen.py):
  -h, --help            show this help message and exit
  --conf CONFIG_FILE    custom NVS items: key,type,encoding lines, the first a namespace
  --values VALUES_FILE  header row of keys, then one row per accessory (extra columns are kept
                        as metadata in the values master)
  --prefix PREFIX       file name prefix: <prefix>-<fileid>.csv/.bin/.txt
  --fileid FILEID       values column naming the files (default: setup_code); must be unique
  --outdir OUTDIR       output folder (default: current directory; created)
  --cid CID             accessory category identifier, 1-255
  --count COUNT         number of accessories (HomeKit-only mode)
  --product-data PRODUCT_DATA
                        16 hex digits for the setup payload (Espressif variant; also
                        spelled --product_data, as hk_mfg_gen.py)
  --size PART_SIZE      NVS partition size, multiple of 4096, at least 0x3000
  --version {v1,v2}     NVS format version (default: v2)
  --keygen {true,false} one random encryption key per accessory (keys/<name>-keys.bin)
  --encrypt {true,false}
                        encrypt the images (needs --keygen true or --keyfile)
  --keyfile KEYFILE     keys file (4096-byte keys partition) used for every accessory

station additions:
  --labels {sheet,single,both,none}
                        label output (default: sheet): a sheet PDF for the whole batch and/or
                        one file per accessory in labels/
  --label-format {pdf,svg}
                        format of the per-accessory labels (default: pdf)
  --paper {A4,Letter}   sheet paper (default: A4)
  --label-size SIZE     ${Object.keys(LABEL_PRESETS).join(', ')} or WIDTHxHEIGHT in mm (default: 40x30)
  --flags FLAGS         transports announced in the QR payload, comma-separated from ip, ble,
                        wac (default: ip,wac, as hk_mfg_gen.py)
  --db DB_FILE          station database: never issue a setup code or setup ID it already holds
  --serials PROFILE     issue serial numbers by this product profile's "serial" scheme, a block
                        of its product's counter taken from --db (needed): into each accessory's
                        NVS, .txt, label, the values master (serial_number) and the manifest
  --jobs N              threads building accessories, the main one included (default: number of CPUs)
  --resume              continue the unfinished run in --outdir (settings come from its journal)

Codes and IDs come from the system CSPRNG, are unique within the batch (and against --db), and
never one of the 12 codes HomeKit forbids. Every accessory's identity is written to the journal
(homekit_batch_<time>.journal in OUTDIR, fsync'ed) before its files, so a killed run resumes without
issuing any identity twice. Ctrl-C stops after the accessories in progress (exit 130; press it
again to stop at once); continue with --resume. The journal, the values master and the .txt files
contain setup codes: keep them secret.

examples:
  factory-station batch --prefix Fan --count 1000 --cid 3 --size 0x3000 --outdir batch-out
  factory-station batch --conf examples/fan/batch-config.csv --values examples/fan/batch-values.csv --fileid serial_no --prefix Fan --cid 3 --size 0x6000 --outdir fans
  factory-station batch --prefix Fan --count 100 --cid 3 --size 0x6000 --db station.db --serials examples/fan/profile.json --outdir numbered

exit status:
    0  done
    1  failed, or a value that does not fit (the message names file, line and column)
    2  bad command line (the message names the option)
  130  stopped by Ctrl-C (143: SIGTERM); continue with --resume
`;

export type BatchArgs =
  | { mode: 'help' }
  | { mode: 'keys-only'; outdir: string; keyfile?: string }
  | { mode: 'resume'; outdir: string; db?: string; jobs: number }
  | ({ mode: 'generate' } & GenerateArgs);

export type { GenerateArgs } from '../batch/run.ts';

const S = (help: string, extra: Partial<OptionDef> = {}): OptionDef => ({ type: 'string', help, ...extra });

/** The option table (the help text above is hk_mfg_gen.py's layout, kept by hand). */
export const BATCH_DEF: CommandDef = {
  program: 'factory-station batch',
  summary: 'Generate many accessories offline (like hk_mfg_gen.py).',
  synopsis: [],
  options: {
    conf: S('custom NVS items'), values: S('one row per accessory'), prefix: S('file name prefix'), fileid: S('values column naming the files'),
    outdir: S('output folder'), cid: S('category'), count: S('number of accessories'),
    'product-data': S('16 hex digits', { aliases: ['product_data'] }), size: S('NVS partition size'), version: S('NVS format version'),
    keygen: S('true|false'), encrypt: S('true|false'), keyfile: S('keys file'), labels: S('label output'), 'label-format': S('pdf|svg'),
    paper: S('A4|Letter'), 'label-size': S('label size'), flags: S('payload transports'), db: S('station database'), serials: S('product profile whose serial numbers to issue'), jobs: S('threads'),
    resume: { type: 'boolean', help: 'continue a run' },
  },
  examples: [],
  exitCodes: {},
};

type Values = Partial<Record<string, string>> & { help?: boolean; resume?: boolean };

const MANDATORY =
  'missing options: --prefix, --cid and --size, with --count N (HomeKit data only) or --conf and --values (with custom data); or --keygen true alone for keys only';

/** Largest batch accepted in one run (the setup-ID space has 36^4 ≈ 1.7 M entries). */
export const MAX_BATCH = 1_000_000;

export function usageError(message: string): CliError {
  return new CliError(`factory-station batch: ${message} (see factory-station batch --help)`, 2);
}

export function parseBatchArgs(argv: readonly string[]): BatchArgs {
  const parsed = parseCommand(BATCH_DEF, [...argv]);
  if (parsed.help) return { mode: 'help' };
  const v = parsed.values as Values;
  const outdir = v.outdir ?? '.';
  const jobs = v.jobs === undefined ? availableParallelism() : positiveInt('--jobs', v.jobs, 256);

  if (v.resume) {
    const extra = Object.keys(v).filter((k) => !['resume', 'outdir', 'db', 'jobs'].includes(k));
    if (extra.length) throw usageError(`--resume takes its settings from the journal; only --outdir, --db and --jobs may be given (not --${extra[0]})`);
    return { mode: 'resume', outdir, jobs, ...(v.db !== undefined ? { db: v.db } : {}) };
  }

  const keygen = trueFalse('--keygen', v.keygen);
  const encrypt = trueFalse('--encrypt', v.encrypt);
  if (v.size === undefined && keygen) {
    if (encrypt) throw new CliError('Invalid: keys-only mode (--keygen without --size) takes only --keyfile and --outdir.', 1);
    return { mode: 'keys-only', outdir, ...(v.keyfile !== undefined ? { keyfile: v.keyfile } : {}) };
  }

  const cid = v.cid === undefined ? undefined : parsePyInt('--cid', v.cid);
  if (cid === undefined || cid === 0 || v.prefix === undefined || v.prefix === '') throw usageError(MANDATORY);
  if (v.values !== undefined && v.count !== undefined) throw usageError('--values and --count cannot be given together');
  if (v.fileid !== undefined && v.values === undefined) throw usageError('--values is needed as --fileid given');
  if (v.conf === undefined) {
    if (v.values === undefined && v.count === undefined) throw usageError('--count or --values is needed');
  } else {
    if (v.count !== undefined) throw usageError('--conf and --count cannot be given together');
    if (v.values === undefined) throw usageError('--values is needed as --conf given');
  }
  if (v.size === undefined) throw usageError(MANDATORY);
  if (v.serials !== undefined && v.db === undefined) throw usageError('--serials needs --db: serial numbers come from the product\'s counter in the station database');
  if (cid < 1 || cid > 255) throw new CliError(`--cid ${cid}: the accessory category identifier must be between 1 and 255`, 1);
  const prefixProblem = fileNamePartProblem(v.prefix);
  if (prefixProblem) throw new CliError(`--prefix ${JSON.stringify(v.prefix)}: ${prefixProblem}`, 1);
  if (v['product-data'] !== undefined && !/^[0-9A-Fa-f]{16}$/.test(v['product-data'])) {
    throw new CliError('--product-data must be 16 hexadecimal digits (as shown in the MFi portal)', 1);
  }
  if (encrypt) {
    if (keygen && v.keyfile !== undefined) throw usageError('Invalid. Cannot provide --keygen and --keyfile with --encrypt argument.');
    if (!keygen && v.keyfile === undefined) throw usageError('Invalid. Must provide --keygen or --keyfile with --encrypt argument.');
  } else {
    if (v.keyfile !== undefined) throw new CliError('Invalid. Cannot give --keyfile as --encrypt is set to false.', 1);
    if (keygen) throw new CliError('--encrypt argument is missing or set to false (--keygen makes per-accessory keys for encrypted images).', 1);
  }

  const args: GenerateArgs = {
    outdir,
    prefix: v.prefix,
    fileid: v.fileid ?? 'setup_code',
    category: cid,
    size: partitionSize(v.size),
    version: nvsVersion(v.version),
    encrypt,
    keygen,
    labels: choice('--labels', v.labels ?? 'sheet', ['sheet', 'single', 'both', 'none'] as const),
    labelFormat: choice('--label-format', v['label-format'] ?? 'pdf', ['pdf', 'svg'] as const),
    paper: paper(v.paper),
    labelSize: labelSize(v['label-size'] ?? '40x30'),
    payloadFlags: payloadFlags(v.flags ?? 'ip,wac'),
    jobs,
  };
  if (v.conf !== undefined) args.conf = v.conf;
  if (v.values !== undefined) args.values = v.values;
  if (v.count !== undefined) args.count = positiveInt('--count', v.count, MAX_BATCH);
  if (v['product-data'] !== undefined) args.productData = v['product-data'];
  if (v.keyfile !== undefined) args.keyfile = v.keyfile;
  if (v.db !== undefined) args.db = v.db;
  if (v.serials !== undefined) args.serials = v.serials;
  return { mode: 'generate', ...args };
}

function trueFalse(name: string, text: string | undefined): boolean {
  if (text === undefined) return false;
  const t = text.toLowerCase();
  if (t !== 'true' && t !== 'false') throw usageError(`argument ${name}: invalid choice: '${text}' (choose from 'true', 'false')`);
  return t === 'true';
}

function choice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw usageError(`argument ${name}: invalid choice: '${text}' (choose from ${choices.map((c) => `'${c}'`).join(', ')})`);
  return text as T;
}

function paper(text: string | undefined): 'A4' | 'Letter' {
  if (text === undefined) return 'A4';
  const t = text.toLowerCase();
  if (t === 'a4') return 'A4';
  if (t === 'letter') return 'Letter';
  throw usageError(`argument --paper: invalid choice: '${text}' (choose from 'A4', 'Letter')`);
}

function nvsVersion(text: string | undefined): 1 | 2 {
  const t = (text ?? 'v2').toLowerCase();
  if (t === 'v1') return 1;
  if (t === 'v2') return 2;
  throw usageError(`argument --version: invalid choice: '${text}' (choose from 'v1', 'v2')`);
}

function parsePyInt(name: string, text: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) throw usageError(`argument ${name}: invalid int value: '${text}'`);
  return Number(text.trim());
}

function positiveInt(name: string, text: string, max: number): number {
  const n = parsePyInt(name, text);
  if (n < 1 || n > max) throw new CliError(`${name} ${text}: must be between 1 and ${max}`, 1);
  return n;
}

/** Like the reference: Python int(x, 0), a multiple of 4096, at least 0x3000 (the HomeKit SDK's generator). */
function partitionSize(text: string): number {
  const n = parsePyIntBase0(text);
  if (n === undefined) throw new CliError(`--size ${text}: not a number (use e.g. 0x6000 or 24576)`, 1);
  if (n % 4096n !== 0n) throw new CliError('Size of partition must be multiple of 4096', 1);
  if (n < 0x3000n) throw new CliError('Minimum NVS partition size needed is 0x3000 bytes.', 1);
  if (n > 0x1000000n) throw new CliError(`--size ${text}: larger than 16 MiB, not a factory NVS partition`, 1);
  return Number(n);
}

function labelSize(text: string): string {
  if (Object.hasOwn(LABEL_PRESETS, text)) return text;
  const m = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) <= 0) {
    throw usageError(`argument --label-size: '${text}' is neither a preset (${Object.keys(LABEL_PRESETS).join(', ')}) nor WIDTHxHEIGHT in mm`);
  }
  return text;
}

function payloadFlags(text: string): { ip: boolean; ble: boolean; wac: boolean } {
  const flags = { ip: false, ble: false, wac: false };
  for (const part of text.split(',').map((s) => s.trim().toLowerCase())) {
    if (part !== 'ip' && part !== 'ble' && part !== 'wac') throw usageError(`argument --flags: unknown flag '${part}' (use ip, ble, wac)`);
    flags[part] = true;
  }
  if (!flags.ip && !flags.ble) throw usageError('argument --flags: the accessory must support ip or ble');
  return flags;
}
