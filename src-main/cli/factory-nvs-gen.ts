// `factory-nvs-gen SETUP_CODE SETUP_ID OUTFILE [options]`: drop-in for esp-homekit-sdk's
// tools/factory_nvs_gen/factory_nvs_gen.py (spec homekit-setup.md §4–5). Same argument parsing
// (argparse rules, texts and exit codes), same files and bytes, same stdout lines. This file owns
// the entry point and the generation in the reference's order of checks; the command line is
// factory-nvs-gen-args.ts, the checking of each input factory-nvs-gen-inputs.ts.
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
import { isAbsolute, resolve } from 'node:path';
import { formatSetupCode, isForbiddenSetupCode, setupCodeProblem, cryptoRandomBytes, type RandomBytes } from '../../shared/homekit/setup-code.ts';
import { setupIdProblem } from '../../shared/homekit/setup-id.ts';
import { computeVerifier } from '../../shared/homekit/srp.ts';
import { buildFactoryCsv } from '../../shared/homekit/factory-csv.ts';
import { generateNvsImage, parseNvsCsv, NvsInputError } from '../../shared/nvs/writer.ts';
import { encryptNvsImage, type NvsKeys } from '../../shared/nvs/encryption.ts';
import { buildKeysPartition, generateNvsKeys } from '../../shared/nvs/keys.ts';
import { processIO, runCommand, CliError, OutputSet, type CliIO } from './io.ts';
import { readInputFileSync } from '../fs/index.ts';
import { parseArguments, type FactoryNvsGenArgs } from './factory-nvs-gen-args.ts';
import { exists, isDirectory, isFile, parseSalt, parseSize, readCustomCsv, readKeyFile } from './factory-nvs-gen-inputs.ts';
import { basename, pySplitext, timestamp, withTrailingSeparator } from './factory-nvs-gen-python.ts';

/** Injectable clock and randomness (tests). */
export interface FactoryNvsGenDeps {
  /** Local time used in the keys file name (reference: datetime.now()). */
  now?: () => Date;
  /** CSPRNG for the salt and generated keys. */
  randomBytes?: RandomBytes;
}

const CODE_FORMAT_MESSAGE = "Setup code should be 8 numbers without any '-' in between. Eg. 11122333\n";
const ARGS_MISSING_MESSAGE =
  'Invalid.\nTo generate nvs partition binary --input, --output and --size arguments are mandatory.\nTo generate encryption keys --keygen argument is mandatory.';
/** Encodings the SDK's bundled nvs_partition_gen.py knows; anything else is "Unsupported encoding". */
const SDK_ENCODINGS = new Set(['u8', 'i8', 'u16', 'u32', 'i32', 'string', 'binary', 'hex2bin', 'base64']);

export async function main(argv: string[], io: CliIO = processIO(), deps: FactoryNvsGenDeps = {}): Promise<number> {
  return runCommand(io, async () => {
    const args = parseArguments(argv, io);
    if (args === 'help') return 0;
    return generate(args, io, deps);
  });
}

/** The options nvs_partition_gen checks (check_input_args), once accepted. */
interface PartitionPlan {
  keygen: boolean;
  encrypt: boolean;
  keyfile: string | undefined;
  outdir: string;
  size: number;
}

async function generate(args: FactoryNvsGenArgs, io: CliIO, deps: FactoryNvsGenDeps): Promise<number> {
  const random = deps.randomBytes ?? cryptoRandomBytes;
  const at = (p: string) => resolve(io.cwd, p);

  // Inputs the reference checks before writing anything, in its order.
  if (!/^[0-9]{8}$/.test(args.setupCode)) {
    io.stdout(CODE_FORMAT_MESSAGE);
    return 1;
  }
  const csvText = factoryCsv(args, at, random);
  const plan = checkPartitionArgs(args, io.cwd);

  // nvs_partition_gen.nvs_part_gen: key first, then the image.
  let keys: NvsKeys | undefined;
  if (plan.keygen) keys = generateNvsKeys(random);
  else if (plan.encrypt && plan.keyfile !== undefined) keys = readKeyFile(at(plan.keyfile), plan.keyfile);

  let image = buildImage(csvText, plan.size, args.version === 'v1' ? 1 : 2, io);
  if (typeof image === 'number') return image;
  if (keys) image = encryptNvsImage(image, keys);
  await writeOutputs(args, plan, { csvText, image, keys }, io, deps);
  return 0;
}

/** The factory CSV: setup code and ID checked, the salt, the verifier, the --infile rows. */
function factoryCsv(args: FactoryNvsGenArgs, at: (p: string) => string, random: RandomBytes): string {
  if (isForbiddenSetupCode(args.setupCode)) throw new CliError(`Error: ${setupCodeProblem(args.setupCode)}`);
  const idProblem = setupIdProblem(args.setupId);
  if (idProblem) throw new CliError(`Error: ${idProblem}`);
  const infile = args.infile || undefined; // Python: an empty --infile counts as absent
  if (infile !== undefined && !isFile(at(infile))) throw new CliError(`Oops...file: \`${infile}\` does not exist...`);
  const salt = args.salt === undefined ? random(16) : parseSalt(args.salt);

  const customCsv = infile !== undefined ? readCustomCsv(at(infile), infile) : undefined;
  const verifier = computeVerifier(formatSetupCode(args.setupCode), salt);
  return buildFactoryCsv({ setupId: args.setupId, salt, verifier, ...(customCsv !== undefined ? { customCsv } : {}) });
}

/** nvs_partition_gen.check_input_args, in its order. */
function checkPartitionArgs(args: FactoryNvsGenArgs, cwd: string): PartitionPlan {
  const keygen = args.keygen === 'true';
  const encrypt = args.encrypt === 'true';
  const keyfile = args.keyfile || undefined;
  const outdir = args.outdir ?? cwd;
  if (outdir !== cwd && keyfile !== undefined && isAbsolute(keyfile)) {
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
  return { keygen, encrypt, keyfile, outdir, size: parseSize(args.size) };
}

/** Writes the CSV, the image and any generated keys together, then prints the reference's lines. */
async function writeOutputs(
  args: FactoryNvsGenArgs,
  plan: PartitionPlan,
  made: { csvText: string; image: Uint8Array; keys: NvsKeys | undefined },
  io: CliIO,
  deps: FactoryNvsGenDeps,
): Promise<void> {
  const at = (p: string) => resolve(io.cwd, p);
  const csvFile = `${args.outfile}.csv`;
  const binFile = `${args.outfile}.bin`;
  const binPath = isAbsolute(binFile) || /[/\\]/.test(binFile) ? binFile : withTrailingSeparator(plan.outdir) + binFile;
  const keysPath = plan.keygen ? keysFilePath(plan.keyfile, plan.outdir, deps.now?.() ?? new Date()) : undefined;

  // Checks the reference never makes: refuse to lose a key or to write into a non-directory.
  const binInOutdir = binPath !== binFile;
  if (binInOutdir && exists(at(plan.outdir)) && !isDirectory(at(plan.outdir))) {
    throw new CliError(`Error: --outdir ${plan.outdir} exists and is not a directory`);
  }
  if (keysPath !== undefined && exists(at(keysPath))) {
    throw new CliError(`Error: ${keysPath} already exists; not overwriting an encryption key (wait a minute or move it away)`);
  }

  const outputs = new OutputSet();
  outputs.add(at(csvFile), made.csvText);
  outputs.add(at(binPath), made.image);
  if (keysPath !== undefined && made.keys) outputs.add(at(keysPath), buildKeysPartition(made.keys), { mode: 0o600, replace: false });
  await outputs.commit();

  io.stdout(`CSV Generated: ${csvFile}\n`);
  io.stdout(`Version:  ${args.version === 'v1' ? 'v1 - Multipage Blob Support Disabled' : 'v2 - Multipage Blob Support Enabled'}\n`);
  io.stdout(`NVS binary created: ${binPath}\n`);
  if (keysPath !== undefined) io.stdout(`Encryption keys binary created: ${keysPath}\n`);
  io.stdout(`NVS Flash Binary Generated: ${binFile}\n`);
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

/** Where nvs_part_gen writes generated keys (and what it prints). */
function keysFilePath(keyfile: string | undefined, outdir: string, now: Date): string {
  const keysDir = keyfile === undefined || !isAbsolute(keyfile) ? `${withTrailingSeparator(outdir)}keys/` : '';
  if (keyfile === undefined) return `${keysDir}encryption_keys_${timestamp(now)}.bin`;
  const [stem, ext] = pySplitext(keyfile);
  return keysDir + (ext ? basename(keyfile) : `${stem}.bin`);
}
