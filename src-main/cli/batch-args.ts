// `factory-station batch` command line: hk_mfg_gen.py's options (same names, same rules, same
// exit statuses: 2 for usage errors, 1 for bad values) plus the station's own additions.
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { CliError } from './io.ts';
import type { GenerateArgs } from '../batch/run.ts';
import { parsePyIntBase0 } from '../../shared/nvs/values.ts';
import { fileNamePartProblem } from '../../shared/batch/custom-data.ts';
import { LABEL_PRESETS } from '../../shared/label/layout.ts';

export const USAGE = `usage: factory-station batch [-h] [--conf CONFIG_FILE] [--values VALUES_FILE]
                            [--prefix PREFIX] [--fileid FILEID] [--outdir OUTDIR]
                            [--cid CID] [--count COUNT] [--product_data PRODUCT_DATA]
                            [--size PART_SIZE] [--version {v1,v2}]
                            [--keygen {true,false}] [--encrypt {true,false}] [--keyfile KEYFILE]
                            [--labels {sheet,single,both,none}] [--label-format {pdf,svg}]
                            [--paper {A4,Letter}] [--label-size SIZE] [--payload-flags FLAGS]
                            [--db DB_FILE] [--jobs N] [--resume]
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
  --product_data PRODUCT_DATA
                        16 hex digits for the setup payload (Espressif variant)
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
  --payload-flags FLAGS transports announced in the QR payload, comma-separated from ip, ble,
                        wac (default: ip,wac, as hk_mfg_gen.py)
  --db DB_FILE          station database: never issue a setup code or setup ID it already holds
  --jobs N              threads building accessories, the main one included (default: number of CPUs)
  --resume              continue the unfinished run in --outdir (settings come from its journal)

Codes and IDs come from the system CSPRNG, are unique within the batch (and against --db), and
never one of the 12 codes HomeKit forbids. Every accessory's identity is written to the journal
(homekit_batch_<time>.journal in OUTDIR, fsync'ed) before its files, so a killed run resumes without
issuing any identity twice. Ctrl-C stops after the accessories in progress (exit 130; press it
again to stop at once); continue with --resume. The journal, the values master and the .txt files
contain setup codes: keep them secret.
`;

export type BatchArgs =
  | { mode: 'help' }
  | { mode: 'keys-only'; outdir: string; keyfile?: string }
  | { mode: 'resume'; outdir: string; db?: string; jobs: number }
  | ({ mode: 'generate' } & GenerateArgs);

export type { GenerateArgs } from '../batch/run.ts';

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  conf: { type: 'string' },
  values: { type: 'string' },
  prefix: { type: 'string' },
  fileid: { type: 'string' },
  outdir: { type: 'string' },
  cid: { type: 'string' },
  count: { type: 'string' },
  product_data: { type: 'string' },
  size: { type: 'string' },
  version: { type: 'string' },
  keygen: { type: 'string' },
  encrypt: { type: 'string' },
  keyfile: { type: 'string' },
  labels: { type: 'string' },
  'label-format': { type: 'string' },
  paper: { type: 'string' },
  'label-size': { type: 'string' },
  'payload-flags': { type: 'string' },
  db: { type: 'string' },
  jobs: { type: 'string' },
  resume: { type: 'boolean' },
} as const;

type Values = Partial<Record<Exclude<keyof typeof OPTIONS, 'help' | 'resume'>, string>> & { help?: boolean; resume?: boolean };

const MANDATORY = `
To generate nvs partition binary with custom data --conf --values, --prefix --cid and --size arguments are mandatory.
To generate nvs partition binary without any custom data --count --prefix --cid and --size arguments are mandatory.
To generate encryption keys --keygen argument is mandatory.`;

/** Largest batch accepted in one run (the setup-ID space has 36^4 ≈ 1.7 M entries). */
export const MAX_BATCH = 1_000_000;

export function usageError(message: string): CliError {
  return new CliError(`${USAGE}factory-station batch: error: ${message}`, 2);
}

export function parseBatchArgs(argv: readonly string[]): BatchArgs {
  let v: Values;
  try {
    v = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values as Values;
  } catch (err) {
    throw usageError((err as Error).message.split('\n')[0]!);
  }
  if (v.help) return { mode: 'help' };
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
  if (cid < 1 || cid > 255) throw new CliError(`--cid ${cid}: the accessory category identifier must be between 1 and 255`, 1);
  const prefixProblem = fileNamePartProblem(v.prefix);
  if (prefixProblem) throw new CliError(`--prefix ${JSON.stringify(v.prefix)}: ${prefixProblem}`, 1);
  if (v.product_data !== undefined && !/^[0-9A-Fa-f]{16}$/.test(v.product_data)) {
    throw new CliError('--product_data must be 16 hexadecimal digits (as shown in the MFi portal)', 1);
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
    payloadFlags: payloadFlags(v['payload-flags'] ?? 'ip,wac'),
    jobs,
  };
  if (v.conf !== undefined) args.conf = v.conf;
  if (v.values !== undefined) args.values = v.values;
  if (v.count !== undefined) args.count = positiveInt('--count', v.count, MAX_BATCH);
  if (v.product_data !== undefined) args.productData = v.product_data;
  if (v.keyfile !== undefined) args.keyfile = v.keyfile;
  if (v.db !== undefined) args.db = v.db;
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
    if (part !== 'ip' && part !== 'ble' && part !== 'wac') throw usageError(`argument --payload-flags: unknown flag '${part}' (use ip, ble, wac)`);
    flags[part] = true;
  }
  if (!flags.ip && !flags.ble) throw usageError('argument --payload-flags: the accessory must support ip or ble');
  return flags;
}
