// `factory-nvs-gen SETUP_CODE SETUP_ID OUTFILE [options]`: drop-in for esp-homekit-sdk's
// tools/factory_nvs_gen/factory_nvs_gen.py (spec homekit-setup.md §4–5). Same argument parsing
// (argparse rules, texts and exit codes), same files and bytes, same stdout lines.
//
// Deliberately better than the reference (vectors quirks/):
// - forbidden setup codes, setup IDs outside [0-9A-Z]{4} and salts that are not exactly 32 hex
//   digits are rejected with a clear message;
// - a random salt keeps a leading zero byte in x (srp.ts), an --infile without final newline
//   gets one (factory-csv.ts);
// - every input is checked and the image built in memory before anything is written, so a bad
//   input leaves no file behind and prints none of the success lines; the reference prints
//   "CSV Generated:" and leaves the CSV (sometimes a partial .bin) before failing;
// - generated keys come from a CSPRNG and an existing keys file is never overwritten.
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { formatSetupCode, isForbiddenSetupCode, setupCodeProblem, cryptoRandomBytes, type RandomBytes } from '../../shared/homekit/setup-code.ts';
import { setupIdProblem } from '../../shared/homekit/setup-id.ts';
import { computeVerifier } from '../../shared/homekit/srp.ts';
import { buildFactoryCsv, checkFactoryCustomData } from '../../shared/homekit/factory-csv.ts';
import { generateNvsImage, parseNvsCsv, NvsInputError } from '../../shared/nvs/writer.ts';
import { encryptNvsImage, type NvsKeys } from '../../shared/nvs/encryption.ts';
import { parsePyIntBase0 } from '../../shared/nvs/values.ts';
import { buildKeysPartition, generateNvsKeys, parseKeysFile, NvsKeysError } from '../../shared/nvs/keys.ts';
import { processIO, runCommand, CliError, OutputSet, type CliIO } from './io.ts';
import { NOT_A_FILE, readInputFileSync } from '../fs/index.ts';

/** Injectable clock and randomness (tests). */
export interface FactoryNvsGenDeps {
  /** Local time used in the keys file name (reference: datetime.now()). */
  now?: () => Date;
  /** CSPRNG for the salt and generated keys. */
  randomBytes?: RandomBytes;
}

/** Our name where factory_nvs_gen.py says './factory_nvs_gen.py' (argparse's layout otherwise unchanged). */
const PROG = 'factory-nvs-gen';
const INDENT = ' '.repeat(`usage: ${PROG} `.length);
const USAGE =
  `usage: ${PROG} [-h] [--infile INFILE] [--size SIZE]\n` +
  `${INDENT}[--version {v1,v2}] [--keygen {true,false}]\n` +
  `${INDENT}[--encrypt {true,false}] [--keyfile KEYFILE]\n` +
  `${INDENT}[--outdir OUTDIR] [--salt SALT]\n` +
  `${INDENT}setup_code setup_id outfile\n`;
const HELP =
  USAGE +
  '\nFactory NVS Generator\n\noptions:\n  -h, --help            show this help message and exit\n\n' +
  'To generate Factory NVS partition:\n' +
  '  setup_code            the input setup code without hyphens Eg.: 11122333\n' +
  '  setup_id              the input setup identifier Eg.: ES32\n' +
  '  --infile INFILE       the input csv file with extension(full path) to add\n' +
  '                        HomeKit data generated to this file Eg.: fan_data.csv\n' +
  '  outfile               the output csv and bin filename without extension Eg.:\n' +
  '                        fan_factory\n' +
  '  --size SIZE           Size of NVS Partition in bytes (must be multiple of\n' +
  '                        4096)\n' +
  '  --version {v1,v2}     Set version. Default: v2\n' +
  '  --keygen {true,false}\n' +
  '                        Generate keys for encryption. Creates an\n' +
  '                        `encryption_keys.bin` file. Default: false\n' +
  '  --encrypt {true,false}\n' +
  '                        Set encryption mode. Default: false\n' +
  '  --keyfile KEYFILE     File having key for encryption (Applicable only if\n' +
  '                        encryption mode is true)\n' +
  '  --outdir OUTDIR       the output directory to store the files\n' +
  '                        created(Default: current directory)\n' +
  '  --salt SALT           Predefined salt if any\n' +
  '\nA drop-in for esp-homekit-sdk\'s factory_nvs_gen.py: same arguments, files, bytes, stdout lines\n' +
  'and exit codes; it refuses what the reference lets through (forbidden codes, bad setup IDs,\n' +
  'salts that are not 16 bytes, custom rows touching hap_setup) and never overwrites a keys file.\n' +
  '\nexamples:\n  factory-nvs-gen 11122333 ES32 fan_factory\n  factory-nvs-gen 11122333 ES32 fan_factory --size 0x6000 --infile examples/fan/custom-data.csv --outdir out\n' +
  '\nexit status:\n    0  done\n    1  bad value or input file (the message says which)\n    2  bad command line\n';

const CODE_FORMAT_MESSAGE = "Setup code should be 8 numbers without any '-' in between. Eg. 11122333\n";
const ARGS_MISSING_MESSAGE =
  'Invalid.\nTo generate nvs partition binary --input, --output and --size arguments are mandatory.\nTo generate encryption keys --keygen argument is mandatory.';
/** Encodings the SDK's bundled nvs_partition_gen.py knows; anything else is "Unsupported encoding". */
const SDK_ENCODINGS = new Set(['u8', 'i8', 'u16', 'u32', 'i32', 'string', 'binary', 'hex2bin', 'base64']);
/** Far above any real NVS partition; keeps a typo from allocating gigabytes. */
const MAX_SIZE = 0x2000000;

export async function main(argv: string[], io: CliIO = processIO(), deps: FactoryNvsGenDeps = {}): Promise<number> {
  return runCommand(io, async () => {
    const args = parseArguments(argv, io);
    if (args === 'help') return 0;
    return generate(args, io, deps);
  });
}

// --- argparse emulation ----------------------------------------------------------------------

interface OptionSpec {
  strings: string[];
  dest: keyof ParsedArgs | 'help';
  choices?: string[];
}

interface ParsedArgs {
  setupCode: string;
  setupId: string;
  outfile: string;
  infile?: string;
  size: string;
  version: string;
  keygen: string;
  encrypt: string;
  keyfile?: string;
  outdir?: string;
  salt?: string;
}

/** In the order argparse registers them (this order shows in "ambiguous option" errors). */
const OPTIONS: OptionSpec[] = [
  { strings: ['-h', '--help'], dest: 'help' },
  { strings: ['--infile'], dest: 'infile' },
  { strings: ['--size'], dest: 'size' },
  { strings: ['--version'], dest: 'version', choices: ['v1', 'v2'] },
  { strings: ['--keygen'], dest: 'keygen', choices: ['true', 'false'] },
  { strings: ['--encrypt'], dest: 'encrypt', choices: ['true', 'false'] },
  { strings: ['--keyfile'], dest: 'keyfile' },
  { strings: ['--outdir'], dest: 'outdir' },
  { strings: ['--salt'], dest: 'salt' },
];
const OPTION_STRINGS = OPTIONS.flatMap((o) => o.strings.map((s) => ({ s, o })));
const POSITIONALS = ['setup_code', 'setup_id', 'outfile'] as const;

type Classified = { kind: 'A' } | { kind: '--' } | { kind: 'O'; option?: OptionSpec; explicit?: string };

function usageError(message: string): CliError {
  return new CliError(`${USAGE}${PROG}: error: ${message}`, 2);
}

/** argparse's _parse_optional (Python 3.11): what one command-line word is. */
function classify(arg: string): Classified {
  if (arg === '' || arg[0] !== '-') return { kind: 'A' };
  const exact = OPTION_STRINGS.find((e) => e.s === arg);
  if (exact) return { kind: 'O', option: exact.o };
  if (arg.length === 1) return { kind: 'A' };
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    const named = OPTION_STRINGS.find((e) => e.s === arg.slice(0, eq));
    if (named) return { kind: 'O', option: named.o, explicit: arg.slice(eq + 1) };
  }
  const matches = prefixMatches(arg);
  if (matches.length > 1) throw usageError(`ambiguous option: ${arg} could match ${matches.map((m) => m.s).join(', ')}`);
  if (matches.length === 1) return { kind: 'O', option: matches[0]!.o, ...(matches[0]!.explicit !== undefined ? { explicit: matches[0]!.explicit } : {}) };
  if (/^-\d+$|^-\d*\.\d+$/.test(arg)) return { kind: 'A' };
  if (arg.includes(' ')) return { kind: 'A' };
  return { kind: 'O' };
}

/** argparse's abbreviation matching (allow_abbrev). */
function prefixMatches(arg: string): { s: string; o: OptionSpec; explicit?: string }[] {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const prefix = eq >= 0 ? arg.slice(0, eq) : arg;
    const explicit = eq >= 0 ? arg.slice(eq + 1) : undefined;
    return OPTION_STRINGS.filter((e) => e.s.startsWith(prefix)).map((e) => ({ ...e, ...(explicit !== undefined ? { explicit } : {}) }));
  }
  const short = arg.slice(0, 2);
  return OPTION_STRINGS.filter((e) => e.s === short || e.s.startsWith(arg)).map((e) =>
    e.s === short ? { ...e, explicit: arg.slice(2) } : e,
  );
}

function parseArguments(argv: string[], io: CliIO): ParsedArgs | 'help' {
  let afterDashDash = false;
  const classified = argv.map((arg): Classified => {
    if (afterDashDash) return { kind: 'A' };
    if (arg === '--') {
      afterDashDash = true;
      return { kind: '--' };
    }
    return classify(arg);
  });
  const values: Partial<Record<keyof ParsedArgs, string>> = {};
  const positionals: string[] = [];
  const extras: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const c = classified[i]!;
    if (c.kind === '--') continue;
    if (c.kind === 'A') {
      (positionals.length < POSITIONALS.length ? positionals : extras).push(argv[i]!);
      continue;
    }
    const option = c.option;
    if (!option) {
      extras.push(argv[i]!);
      continue;
    }
    const name = option.strings.join('/');
    if (option.dest === 'help') {
      if (c.explicit !== undefined) throw usageError(`argument ${name}: ignored explicit argument ${pyRepr(c.explicit)}`);
      io.stdout(HELP);
      return 'help';
    }
    let value: string;
    if (c.explicit !== undefined) value = c.explicit;
    else if (classified[i + 1]?.kind === 'A') value = argv[++i]!;
    else throw usageError(`argument ${name}: expected one argument`);
    if (option.choices) {
      value = value.toLowerCase(); // type=str.lower
      if (!option.choices.includes(value)) {
        throw usageError(`argument ${name}: invalid choice: ${pyRepr(value)} (choose from ${option.choices.map(pyRepr).join(', ')})`);
      }
    }
    values[option.dest] = value;
  }
  if (positionals.length < POSITIONALS.length) {
    throw usageError(`the following arguments are required: ${POSITIONALS.slice(positionals.length).join(', ')}`);
  }
  if (extras.length > 0) throw usageError(`unrecognized arguments: ${extras.join(' ')}`);
  return {
    ...values,
    setupCode: positionals[0]!,
    setupId: positionals[1]!,
    outfile: positionals[2]!,
    size: values.size ?? '0x4000',
    version: values.version ?? 'v2',
    keygen: values.keygen ?? 'false',
    encrypt: values.encrypt ?? 'false',
  };
}

/** Python's repr() of a str, for messages that quote the reference's. */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

// --- generation ------------------------------------------------------------------------------

async function generate(args: ParsedArgs, io: CliIO, deps: FactoryNvsGenDeps): Promise<number> {
  const random = deps.randomBytes ?? cryptoRandomBytes;
  const at = (p: string) => resolve(io.cwd, p);

  // Inputs the reference checks before writing anything, in its order.
  if (!/^[0-9]{8}$/.test(args.setupCode)) {
    io.stdout(CODE_FORMAT_MESSAGE);
    return 1;
  }
  if (isForbiddenSetupCode(args.setupCode)) throw new CliError(`Error: ${setupCodeProblem(args.setupCode)}`);
  const idProblem = setupIdProblem(args.setupId);
  if (idProblem) throw new CliError(`Error: ${idProblem}`);
  const infile = args.infile || undefined; // Python: an empty --infile counts as absent
  if (infile !== undefined && !isFile(at(infile))) throw new CliError(`Oops...file: \`${infile}\` does not exist...`);
  const salt = args.salt === undefined ? random(16) : parseSalt(args.salt);

  const customCsv = infile !== undefined ? readUtf8(at(infile), infile) : undefined;
  // Never in the reference: custom data that would override or displace the identity is refused.
  if (customCsv !== undefined) {
    try {
      checkFactoryCustomData(customCsv, infile!);
    } catch (err) {
      if (err instanceof NvsInputError) throw new CliError(`Error: ${err.message}`);
      throw err;
    }
  }
  const verifier = computeVerifier(formatSetupCode(args.setupCode), salt);
  const csvFile = `${args.outfile}.csv`;
  const csvText = buildFactoryCsv({ setupId: args.setupId, salt, verifier, ...(customCsv !== undefined ? { customCsv } : {}) });

  // nvs_partition_gen.check_input_args, in its order.
  const keygen = args.keygen === 'true';
  const encrypt = args.encrypt === 'true';
  const keyfile = args.keyfile || undefined;
  const outdir = args.outdir ?? io.cwd;
  if (outdir !== io.cwd && keyfile !== undefined && isAbsolute(keyfile)) {
    throw new CliError('Error. Cannot provide --outdir argument as --keyfile is absolute path.');
  }
  if (keygen) {
    if (!encrypt) throw new CliError('--encrypt argument is missing or set to false.');
  } else {
    if (!args.size) throw new CliError(ARGS_MISSING_MESSAGE);
    if (encrypt && keyfile === undefined) throw new CliError('Missing parameter. Enter --keyfile or --keygen.');
    if (!encrypt && keyfile !== undefined) throw new CliError('Invalid. Cannot give --keyfile as --encrypt is set to false.');
  }
  if (keyfile !== undefined) {
    const ext = pySplitext(keyfile)[1];
    if (ext && ext !== '.bin') throw new CliError('--keyfile argument can be a filename with no extension or .bin extension only');
  }
  if (!args.size) throw new CliError(ARGS_MISSING_MESSAGE);
  const size = parseSize(args.size);

  // nvs_partition_gen.nvs_part_gen: key first, then the image.
  let keys: NvsKeys | undefined;
  if (keygen) keys = generateNvsKeys(random);
  else if (encrypt && keyfile !== undefined) keys = readKeyFile(at(keyfile), keyfile);

  let image = buildImage(csvText, size, args.version === 'v1' ? 1 : 2, io);
  if (typeof image === 'number') return image;
  if (keys) image = encryptNvsImage(image, keys);

  const binFile = `${args.outfile}.bin`;
  const binPath = isAbsolute(binFile) || /[/\\]/.test(binFile) ? binFile : withTrailingSeparator(outdir) + binFile;
  const keysPath = keygen ? keysFilePath(keyfile, outdir, deps.now?.() ?? new Date()) : undefined;

  // Checks the reference never makes: refuse to lose a key or to write into a non-directory.
  const binInOutdir = binPath !== binFile;
  if (binInOutdir && exists(at(outdir)) && !isDirectory(at(outdir))) {
    throw new CliError(`Error: --outdir ${outdir} exists and is not a directory`);
  }
  if (keysPath !== undefined && exists(at(keysPath))) {
    throw new CliError(`Error: ${keysPath} already exists; not overwriting an encryption key (wait a minute or move it away)`);
  }

  const outputs = new OutputSet();
  outputs.add(at(csvFile), csvText);
  outputs.add(at(binPath), image);
  if (keysPath !== undefined && keys) outputs.add(at(keysPath), buildKeysPartition(keys), { mode: 0o600, replace: false });
  await outputs.commit();

  io.stdout(`CSV Generated: ${csvFile}\n`);
  io.stdout(`Version:  ${args.version === 'v1' ? 'v1 - Multipage Blob Support Disabled' : 'v2 - Multipage Blob Support Enabled'}\n`);
  io.stdout(`NVS binary created: ${binPath}\n`);
  if (keysPath !== undefined) io.stdout(`Encryption keys binary created: ${keysPath}\n`);
  io.stdout(`NVS Flash Binary Generated: ${binFile}\n`);
  return 0;
}

/** binascii.a2b_hex's errors for what it refuses, then our own rule: exactly 16 bytes. */
function parseSalt(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new CliError('Odd-length string');
  if (!/^[0-9A-Fa-f]*$/.test(hex)) throw new CliError('Non-hexadecimal digit found');
  if (hex.length !== 32) {
    throw new CliError(`Error: --salt must be exactly 32 hexadecimal digits (16 bytes); got ${hex.length / 2} bytes`);
  }
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

/** Python int(text, 0) plus the two size rules of check_input_args. */
function parseSize(text: string): number {
  const n = parsePyIntBase0(text);
  if (n === undefined) throw new CliError(`invalid literal for int() with base 0: ${pyRepr(text)}`);
  if (n % 4096n !== 0n) throw new CliError('Size of partition must be multiple of 4096');
  if (n - 4096n < 2n * 4096n) throw new CliError('Minimum NVS partition size needed is 0x3000 bytes.');
  if (n > BigInt(MAX_SIZE)) throw new CliError(`Error: --size 0x${n.toString(16)} is larger than any NVS partition (at most 0x${MAX_SIZE.toString(16)})`);
  return Number(n);
}

/**
 * The image, or the exit status after printing the reference's message. Data errors the SDK's
 * generator reports itself (unsupported encoding, odd hex2bin length) go to stdout with status 254
 * as there; a partition too small gets its stderr text; anything else our clear message.
 */
function buildImage(csvText: string, size: number, version: 1 | 2, io: CliIO): Uint8Array | number {
  const sdkError = firstSdkDataError(csvText);
  let image: Uint8Array | undefined;
  try {
    image = generateNvsImage(csvText, { size, version, layout: 'homekit', readFile: (p) => readInputFileSync(resolve(io.cwd, p)) });
  } catch (err) {
    if (!(err instanceof NvsInputError)) throw err;
    const earlier = sdkError && (err.line === undefined || sdkError.line <= err.line);
    if (!earlier) {
      if (/too small/.test(err.detail)) throw new CliError('Size parameter is less than the size of data in csv.Please increase size.');
      throw new CliError(err.message);
    }
  }
  if (sdkError) {
    io.stdout(`${sdkError.message}\n`);
    return 254;
  }
  return image!;
}

/** The first row nvs_partition_gen would reject with InputError (exit -2), if any. */
function firstSdkDataError(csvText: string): { line: number; message: string } | undefined {
  let rows;
  try {
    rows = parseNvsCsv(csvText);
  } catch {
    return undefined; // the writer reports CSV syntax errors itself
  }
  for (const row of rows) {
    if (row.type === 'namespace' || row.type === 'file' || row.encoding === undefined) continue;
    if (row.encoding === 'hex2bin' && row.value !== undefined && [...row.value].length % 2 !== 0) {
      return { line: row.line, message: `${row.key}: Invalid data length. Should be multiple of 2.` };
    }
    const lower = row.encoding.toLowerCase();
    if (!SDK_ENCODINGS.has(lower)) return { line: row.line, message: `${lower}: Unsupported encoding` };
  }
  return undefined;
}

/**
 * The reference takes the first 64 bytes of any file as the key. We take exactly a 4096-byte keys
 * partition (its CRC checked) or the 64 bare key bytes: anything else (a 4097-byte file, a
 * truncated one) is not a keys file, and a wrong key would make images no device can read.
 */
function readKeyFile(path: string, shown: string): NvsKeys {
  let bytes: Uint8Array;
  try {
    bytes = readInputFileSync(path);
  } catch (err) {
    throw new CliError(pythonOsError(err, shown));
  }
  try {
    return parseKeysFile(bytes);
  } catch (err) {
    if (err instanceof NvsKeysError) throw new CliError(`Error: --keyfile ${shown}: ${err.message}`);
    throw err;
  }
}

/** Where nvs_part_gen writes generated keys (and what it prints). */
function keysFilePath(keyfile: string | undefined, outdir: string, now: Date): string {
  const keysDir = keyfile === undefined || !isAbsolute(keyfile) ? `${withTrailingSeparator(outdir)}keys/` : '';
  if (keyfile === undefined) return `${keysDir}encryption_keys_${timestamp(now)}.bin`;
  const [stem, ext] = pySplitext(keyfile);
  return keysDir + (ext ? basename(keyfile) : `${stem}.bin`);
}

/** strftime('%m-%d_%H-%M') in local time. */
function timestamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getMonth() + 1)}-${two(d.getDate())}_${two(d.getHours())}-${two(d.getMinutes())}`;
}

/** os.path.join(dir, ''). */
function withTrailingSeparator(dir: string): string {
  return dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** os.path.splitext (POSIX): leading dots of the last component do not start an extension. */
function pySplitext(p: string): [string, string] {
  const base = basename(p);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [p, ''];
  const cut = p.length - base.length + dot;
  return [p.slice(0, cut), p.slice(cut)];
}

function readUtf8(path: string, shown: string): string {
  const bytes = readInputFileSync(path);
  try {
    // ignoreBOM: Python's utf-8 codec keeps a byte order mark, and so must the copied CSV.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CliError(`Error: --infile ${shown} is not valid UTF-8 text`);
  }
}

function pythonOsError(err: unknown, shown: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `[Errno 2] No such file or directory: ${pyRepr(shown)}`;
  if (code === 'EISDIR') return `[Errno 21] Is a directory: ${pyRepr(shown)}`;
  if (code === 'EACCES') return `[Errno 13] Permission denied: ${pyRepr(shown)}`;
  if (code === NOT_A_FILE) return `${shown}: a device, not a file`;
  return `${shown}: ${(err as Error).message}`;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
