// Argument handling shared by the `factory-station nvs …` sub-commands. They take the same
// positional arguments and options as Espressif's nvs_partition_gen.py (argparse), so a recorded
// reference command line works after swapping the program name: `--opt value` and `--opt=value`,
// unique prefixes of long options (argparse's allow_abbrev), options anywhere, `--` ends options.
import { stat } from 'node:fs/promises';
import { extname, isAbsolute, join, dirname } from 'node:path';
import { CliError, type CliIO } from './io.ts';
import { parsePyIntBase0 } from '../../shared/nvs/values.ts';
import type { NvsLayout } from '../../shared/nvs/writer.ts';

/** Exit status for usage errors (argparse's). */
export const USAGE_EXIT = 2;

/** The end of every nvs sub-command's help: examples and exit codes (`failure`: what exit 1 means there). */
export function nvsTail(examples: string[], failure: string): string {
  return `\nexamples:\n${examples.map((e) => `  ${e}\n`).join('')}\nexit status:\n    0  done\n    ${failure}\n    2  bad command line (the message names the option or argument)\n`;
}

/** One line naming the mistake and the sub-command's --help ("usage: factory-station nvs generate …" → its name). */
export function nvsUsageError(usage: string, message: string): CliError {
  const program = /^usage: (factory-station nvs [a-z-]+)/.exec(usage)?.[1] ?? 'factory-station nvs';
  return new CliError(`${program}: ${message} (see ${program} --help)`, USAGE_EXIT);
}

interface OptionDef {
  /** Long option name without dashes, e.g. 'outdir'. */
  name: string;
  /** Takes a value (else a store_true flag). */
  value: boolean;
  choices?: readonly string[];
}

interface ParsedArgs {
  positionals: string[];
  values: Map<string, string>;
  flags: Set<string>;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

function isOptionLike(arg: string): boolean {
  return arg.startsWith('-') && arg !== '-' && !NEGATIVE_NUMBER.test(arg);
}

/** argparse-compatible scan of argv against the option definitions of one sub-command. */
function scan(argv: readonly string[], defs: readonly OptionDef[], usage: string): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: new Map(), flags: new Set() };
  const usageError = (msg: string) => nvsUsageError(usage, msg);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isOptionLike(arg)) {
      out.positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw usageError(`unrecognized arguments: ${arg}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const exact = defs.find((d) => d.name === name);
    const candidates = exact ? [exact] : defs.filter((d) => name.length > 0 && d.name.startsWith(name));
    if (candidates.length === 0) throw usageError(`unrecognized arguments: ${arg}`);
    if (candidates.length > 1) {
      throw usageError(`ambiguous option: --${name} could match ${candidates.map((d) => `--${d.name}`).join(', ')}`);
    }
    const def = candidates[0]!;
    if (!def.value) {
      if (eq >= 0) throw usageError(`argument --${def.name}: ignored explicit argument '${arg.slice(eq + 1)}'`);
      out.flags.add(def.name);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || isOptionLike(next)) throw usageError(`argument --${def.name}: expected one argument`);
      value = next;
      i++;
    }
    if (def.choices && !def.choices.includes(value)) {
      throw usageError(`argument --${def.name}: invalid choice: '${value}' (choose from ${def.choices.join(', ')})`);
    }
    out.values.set(def.name, value);
  }
  return out;
}

/** True when -h/--help appears among the options (argparse prints help whatever else is there). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
  }
  return false;
}

export const NVS_LAYOUTS: readonly NvsLayout[] = ['upstream', 'homekit', 'idf52'];

const VERSION_OPT: OptionDef = { name: 'version', value: true, choices: ['1', '2'] };
const OUTDIR_OPT: OptionDef = { name: 'outdir', value: true };
const LAYOUT_OPT: OptionDef = { name: 'layout', value: true, choices: NVS_LAYOUTS };
const KEY_OPTS: readonly OptionDef[] = [
  { name: 'keyfile', value: true },
  { name: 'key_protect_hmac', value: false },
  { name: 'kp_hmac_keygen', value: false },
  { name: 'kp_hmac_keyfile', value: true },
  { name: 'kp_hmac_inputkey', value: true },
];
const ENCRYPT_OPTS: readonly OptionDef[] = [
  { name: 'keygen', value: false },
  { name: 'inputkey', value: true },
  ...KEY_OPTS,
];

/** Options of `generate` and `encrypt` (`encrypt` fills the key fields). */
export interface NvsPartitionArgs {
  /** CSV files (one or more), as given. */
  inputs: string[];
  /** Output image name, as given (see resolveTargetPath). */
  output: string;
  /** Partition size text, as given (see parsePartitionSize). */
  size: string;
  version: 1 | 2;
  /** --outdir as given; undefined = working directory. */
  outdir?: string;
  /** Extension (not in nvs_partition_gen.py): page layout to reproduce. Default 'upstream'. */
  layout: NvsLayout;
  keygen: boolean;
  keyfile?: string;
  inputkey?: string;
  keyProtectHmac: boolean;
  kpHmacKeygen: boolean;
  kpHmacKeyfile?: string;
  kpHmacInputkey?: string;
}

export interface NvsGenerateKeyArgs {
  keyfile?: string;
  outdir?: string;
  keyProtectHmac: boolean;
  kpHmacKeygen: boolean;
  kpHmacKeyfile?: string;
  kpHmacInputkey?: string;
}

export interface NvsDecryptArgs {
  input: string;
  key: string;
  output: string;
  outdir?: string;
}

export const GENERATE_USAGE = `usage: factory-station nvs generate [-h] [--version {1,2}] [--outdir OUTDIR] [--layout {upstream,homekit,idf52}] input [input ...] output size

Generate an NVS partition image from CSV file(s), byte-identical to nvs_partition_gen.py.

positional arguments:
  input         Path to CSV file(s) to parse (file rows resolve against the working directory)
  output        Path to output NVS binary file (must have a .bin extension)
  size          Size of NVS partition in bytes (multiple of 4096; 0x..., 0o..., decimal)

options:
  -h, --help    show this help message and exit
  --version {1,2}
                Version 1 - multipage blob support disabled; Version 2 (default) - enabled
  --outdir OUTDIR
                Output directory to store files created (default: current directory)
  --layout {upstream,homekit,idf52}
                Page layout to reproduce (default upstream = esp-idf-nvs-partition-gen 0.2.0;
                homekit = esp-homekit-sdk copy, all pages ACTIVE; idf52 = ESP-IDF <= v5.2, all pages FULL)
${nvsTail(['factory-station nvs generate examples/fan/custom-data.csv data.bin 0x6000'], '254  bad CSV content (as nvs_partition_gen.py; the message names file, line and key)')}`;

export const ENCRYPT_USAGE = `usage: factory-station nvs encrypt [-h] [--version {1,2}] [--keygen] [--keyfile KEYFILE] [--inputkey INPUTKEY] [--outdir OUTDIR] [--key_protect_hmac] [--kp_hmac_keygen] [--kp_hmac_keyfile KP_HMAC_KEYFILE] [--kp_hmac_inputkey KP_HMAC_INPUTKEY] [--layout {upstream,homekit,idf52}] input [input ...] output size
`;

export const GENERATE_KEY_USAGE = `usage: factory-station nvs generate-key [-h] [--key_protect_hmac] [--kp_hmac_keygen] [--kp_hmac_keyfile KP_HMAC_KEYFILE] [--kp_hmac_inputkey KP_HMAC_INPUTKEY] [--keyfile KEYFILE] [--outdir OUTDIR]
`;

export const DECRYPT_USAGE = `usage: factory-station nvs decrypt [-h] [--outdir OUTDIR] input key output
`;

function partitionArgs(argv: readonly string[], defs: readonly OptionDef[], usage: string): NvsPartitionArgs {
  const p = scan(argv, defs, usage);
  if (p.positionals.length < 3) {
    const missing = ['input', 'output', 'size'].slice(p.positionals.length);
    throw nvsUsageError(usage, `the following arguments are required: ${missing.join(', ')}`);
  }
  const n = p.positionals.length;
  const args: NvsPartitionArgs = {
    inputs: p.positionals.slice(0, n - 2),
    output: p.positionals[n - 2]!,
    size: p.positionals[n - 1]!,
    version: p.values.get('version') === '1' ? 1 : 2,
    layout: (p.values.get('layout') as NvsLayout | undefined) ?? 'upstream',
    keygen: p.flags.has('keygen'),
    keyProtectHmac: p.flags.has('key_protect_hmac'),
    kpHmacKeygen: p.flags.has('kp_hmac_keygen'),
  };
  const opt = (name: string) => p.values.get(name);
  if (opt('outdir') !== undefined) args.outdir = opt('outdir');
  if (opt('keyfile') !== undefined) args.keyfile = opt('keyfile');
  if (opt('inputkey') !== undefined) args.inputkey = opt('inputkey');
  if (opt('kp_hmac_keyfile') !== undefined) args.kpHmacKeyfile = opt('kp_hmac_keyfile');
  if (opt('kp_hmac_inputkey') !== undefined) args.kpHmacInputkey = opt('kp_hmac_inputkey');
  return args;
}

/** `generate INPUT… OUTPUT SIZE [--version 1|2] [--outdir D] [--layout L]`. */
export function parseGenerateArgs(argv: readonly string[]): NvsPartitionArgs {
  return partitionArgs(argv, [VERSION_OPT, OUTDIR_OPT, LAYOUT_OPT], GENERATE_USAGE);
}

/** `encrypt INPUT… OUTPUT SIZE` + version/outdir/layout + keygen/inputkey/keyfile/HMAC options. */
export function parseEncryptArgs(argv: readonly string[]): NvsPartitionArgs {
  return partitionArgs(argv, [VERSION_OPT, OUTDIR_OPT, LAYOUT_OPT, ...ENCRYPT_OPTS], ENCRYPT_USAGE);
}

/** `generate-key [--keyfile NAME] [--outdir D] [--key_protect_hmac [--kp_hmac_keygen | --kp_hmac_inputkey F] [--kp_hmac_keyfile NAME]]`. */
export function parseGenerateKeyArgs(argv: readonly string[]): NvsGenerateKeyArgs {
  const p = scan(argv, [OUTDIR_OPT, ...KEY_OPTS], GENERATE_KEY_USAGE);
  if (p.positionals.length > 0) {
    throw nvsUsageError(GENERATE_KEY_USAGE, `unrecognized arguments: ${p.positionals.join(' ')}`);
  }
  const args: NvsGenerateKeyArgs = { keyProtectHmac: p.flags.has('key_protect_hmac'), kpHmacKeygen: p.flags.has('kp_hmac_keygen') };
  const opt = (name: string) => p.values.get(name);
  if (opt('outdir') !== undefined) args.outdir = opt('outdir');
  if (opt('keyfile') !== undefined) args.keyfile = opt('keyfile');
  if (opt('kp_hmac_keyfile') !== undefined) args.kpHmacKeyfile = opt('kp_hmac_keyfile');
  if (opt('kp_hmac_inputkey') !== undefined) args.kpHmacInputkey = opt('kp_hmac_inputkey');
  return args;
}

/** `decrypt INPUT KEY OUTPUT [--outdir D]`. */
export function parseDecryptArgs(argv: readonly string[]): NvsDecryptArgs {
  const p = scan(argv, [OUTDIR_OPT], DECRYPT_USAGE);
  if (p.positionals.length !== 3) {
    const msg = p.positionals.length > 3
      ? `unrecognized arguments: ${p.positionals.slice(3).join(' ')}`
      : `the following arguments are required: ${['input', 'key', 'output'].slice(p.positionals.length).join(', ')}`;
    throw nvsUsageError(DECRYPT_USAGE, msg);
  }
  const [input, key, output] = p.positionals as [string, string, string];
  const args: NvsDecryptArgs = { input, key, output };
  const outdir = p.values.get('outdir');
  if (outdir !== undefined) args.outdir = outdir;
  return args;
}

export const READ_ONLY_NOTICE =
  '\nMinimum partition size for read/write NVS is 0x3000 bytes. Partitions smaller than this must be flagged as "readonly" in the partition table CSV.\n';

/** Refuse sizes an image buffer should not be allocated for (the reference has no limit). */
export const MAX_PARTITION_SIZE = 256 * 1024 * 1024;

/**
 * The reference's size checks (spec §10): Python `int(text, 0)`, multiple of 4096, ≥ 0x1000;
 * 0x1000/0x2000 = read-only image (the notice is printed on stdout). The legacy layouts need ≥ 0x3000.
 * Unlike the reference, an unparseable size is an error (it exits 0 there).
 */
export function parsePartitionSize(text: string, io: CliIO, layout: NvsLayout = 'upstream'): { size: number; readOnly: boolean } {
  const n = parsePyIntBase0(text);
  if (n === undefined) throw new CliError(`invalid literal for int() with base 0: '${text}' (partition size)`, 1);
  if (n % 4096n !== 0n) throw new CliError('Size of partition must be multiple of 4096', 1);
  if (n < 4096n) throw new CliError('Minimum partition size for read/write NVS is 0x3000 bytes and for read-only NVS is 0x1000 bytes.', 1);
  if (n > BigInt(MAX_PARTITION_SIZE)) throw new CliError(`partition size ${text} is larger than the supported maximum of 0x${MAX_PARTITION_SIZE.toString(16)} bytes`, 1);
  const size = Number(n);
  if (layout !== 'upstream' && size < 0x3000) throw new CliError('Minimum NVS partition size needed is 0x3000 bytes.', 1);
  const readOnly = size < 0x3000;
  if (readOnly) io.stdout(READ_ONLY_NOTICE);
  return { size, readOnly };
}

/** The reference's `.bin` check: the extension must *contain* `.bin` (so `.binx` passes). */
export function requireBinExtension(path: string): void {
  if (!extname(path).includes('.bin')) throw new CliError(`Error: \`${path}\`. Only \`.bin\` extension allowed.`, 1);
}

function expandUser(path: string, io: CliIO): string {
  const home = io.env.HOME ?? io.env.USERPROFILE;
  if (home && (path === '~' || path.startsWith('~/'))) return home + path.slice(1);
  return path;
}

async function existsAsNonDirectory(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Where nvs_partition_gen.py puts an output (set_target_filepath): OUTDIR/FILE, OUTDIR defaulting
 * to the working directory; an absolute FILE ignores OUTDIR (with the reference's warning on
 * stdout); a name without extension gets `.bin`, another extension is refused. Nothing is created
 * here — writeFileAtomic creates the folders when the file is committed.
 */
export async function resolveTargetPath(outdir: string | undefined, filepath: string, io: CliIO): Promise<string> {
  let file = filepath;
  const ext = extname(file);
  if (!ext) file += '.bin';
  else if (!ext.includes('.bin')) throw new CliError(`Error: \`${file}\`. Only \`.bin\` extension allowed.`, 1);
  const dir = outdir === undefined ? io.cwd : expandUser(outdir, io);
  const absDir = isAbsolute(dir) ? dir : join(io.cwd, dir);
  if (await existsAsNonDirectory(absDir)) throw new CliError(`Error: outdir \`${dir}\` path already exists and it's not a directory.`, 1);
  if (isAbsolute(file)) {
    if (outdir !== undefined && dir !== io.cwd) {
      io.stdout(`\nWarning: \`${file}\` \n\t==> absolute path given so outdir is ignored for this file.\n`);
    }
    return file;
  }
  const target = join(absDir, file);
  if (await existsAsNonDirectory(dirname(target))) {
    throw new CliError(`Error: filedir \`${join(dir, dirname(file))}/\` path already exists and it's not a directory.`, 1);
  }
  return target;
}
