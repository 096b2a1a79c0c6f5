// `factory-station nvs generate-key | encrypt | decrypt | inspect`: the encryption half of
// nvs_partition_gen.py (same positional arguments, options, output files and stdout lines), plus
// `inspect`, which verifies an image with shared/nvs/reader.ts. Called by the `nvs` dispatcher;
// argument parsing, size and output-path rules are shared with `generate` (../nvs-args.ts).
//
// Deliberate differences from the reference: keys come from the CSPRNG (not Python's `random`);
// keys files are CRC-checked; key files are written with mode 0600 and never overwrite an existing
// file (a lost key = devices whose NVS cannot be read); decrypting with the wrong key is detected
// (the decrypted entries fail their CRCs) and refused; nothing is written unless every output of
// the command could be produced; bad CSV content is one line on stderr.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CliError, OutputSet, runCommand, type CliIO } from '../io.ts';
import {
  DECRYPT_USAGE,
  ENCRYPT_USAGE,
  GENERATE_KEY_USAGE,
  USAGE_EXIT,
  nvsTail,
  nvsUsageError,
  parseDecryptArgs,
  parseEncryptArgs,
  parseGenerateKeyArgs,
  parsePartitionSize,
  requireBinExtension,
  resolveTargetPath,
  wantsHelp,
} from '../nvs-args.ts';
import { generateImageFromCsvFiles } from '../../nvs/generate.ts';
import { decryptNvsImage, encryptNvsImage, type NvsKeys } from '../../../shared/nvs/encryption.ts';
import {
  buildKeysPartition,
  deriveNvsKeysFromHmac,
  generateNvsKeys,
  NvsKeysError,
  parseKeysFile,
} from '../../../shared/nvs/keys.ts';
import { formatProblem, readNvsImage, type NvsItem, type NvsReadResult } from '../../../shared/nvs/reader.ts';
import { NvsInputError } from '../../../shared/nvs/writer.ts';
import { readInputFile } from '../../fs/index.ts';

/** Exit status of the reference for bad CSV content (InputError → sys.exit(-2)). */
const NVS_INPUT_ERROR_EXIT = 254;

async function readInput(io: CliIO, file: string): Promise<Uint8Array> {
  return readInputFile(resolve(io.cwd, file));
}

/** A keys file as the commands accept it (see parseKeysFile); a bad one is one clear line. */
async function readKeys(io: CliIO, file: string): Promise<NvsKeys> {
  const bin = await readInput(io, file);
  try {
    return parseKeysFile(bin);
  } catch (err) {
    if (err instanceof NvsKeysError) throw new CliError(`error: ${file}: ${err.message}`, 1);
    throw err;
  }
}

function requireWholePages(file: string, image: Uint8Array): void {
  if (image.length === 0 || image.length % 4096 !== 0) {
    throw new CliError(`error: ${file}: ${image.length} bytes is not a whole number of 4096-byte NVS pages`, 1);
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Default keys file name of the reference: keys-MM-DD_HH-MM.bin in local time. */
export function defaultKeysFileName(now: Date = new Date()): string {
  return `keys-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}_${pad2(now.getHours())}-${pad2(now.getMinutes())}.bin`;
}

const KEY_OPTIONS_HELP =
  '  --keyfile KEYFILE     name of the keys file written to OUTDIR/keys/ (default: keys-MM-DD_HH-MM.bin, local time)\n' +
  '  --key_protect_hmac    derive the keys from an HMAC key (HMAC-based key protection scheme) instead of\n' +
  '                        drawing them at random (flash-encryption based scheme)\n' +
  '  --kp_hmac_keygen      generate the HMAC key (32 random bytes, saved as OUTDIR/keys/hmac-KEYFILE)\n' +
  '  --kp_hmac_keyfile KP_HMAC_KEYFILE\n' +
  '                        name of the HMAC key file --kp_hmac_keygen writes\n' +
  '  --kp_hmac_inputkey KP_HMAC_INPUTKEY\n' +
  '                        file holding the HMAC key to derive the NVS encryption keys from\n';

const GENERATE_KEY_HELP =
  GENERATE_KEY_USAGE +
  '\nGenerate NVS encryption keys (XTS-AES-256 data key + tweak key) as a 4096-byte keys partition\n' +
  'image (eky | tky | CRC32 | 0xFF padding) in OUTDIR/keys/.\n\n' +
  'options:\n' +
  '  -h, --help            show this help message and exit\n' +
  KEY_OPTIONS_HELP +
  '  --outdir OUTDIR       output directory (default: current directory)\n' +
  nvsTail(['factory-station nvs generate-key --keyfile product-keys.bin --outdir keys-out'], '1  failed, e.g. the keys file already exists (never overwritten)');

const ENCRYPT_HELP =
  ENCRYPT_USAGE +
  '\nGenerate an NVS partition image from CSV file(s) and encrypt it (XTS-AES-256 per 32-byte entry).\n\n' +
  'positional arguments:\n' +
  '  input                 Path to CSV file(s) to parse\n' +
  '  output                Path to output NVS binary file (.bin)\n' +
  '  size                  Size of NVS partition in bytes (multiple of 4096)\n\n' +
  'options:\n' +
  '  -h, --help            show this help message and exit\n' +
  '  --version {1,2}       1 = multipage blobs disabled, 2 = enabled (default: 2)\n' +
  '  --keygen              generate new keys for this image (saved in OUTDIR/keys/)\n' +
  '  --inputkey INPUTKEY   keys file (.bin) to encrypt with\n' +
  KEY_OPTIONS_HELP +
  '  --outdir OUTDIR       output directory (default: current directory)\n' +
  '  --layout {upstream,homekit,idf52}\n' +
  '                        page layout to reproduce (default upstream; see `nvs generate --help`)\n' +
  nvsTail(['factory-station nvs encrypt examples/fan/custom-data.csv data_enc.bin 0x6000 --keygen'], '1  failed (the message says why)');

const DECRYPT_HELP =
  DECRYPT_USAGE +
  '\nDecrypt an encrypted NVS partition image.\n\n' +
  'positional arguments:\n' +
  '  input            encrypted NVS image (.bin)\n' +
  '  key              keys file (.bin): a 4096-byte keys partition (CRC-checked) or the 64 key bytes\n' +
  '  output           decrypted image to write (.bin)\n\n' +
  'options:\n' +
  '  -h, --help       show this help message and exit\n' +
  '  --outdir OUTDIR  output directory (default: current directory)\n' +
  nvsTail(['factory-station nvs decrypt data_enc.bin keys/keys.bin data.bin'], '1  failed, e.g. a wrong key (the pages do not check out)');

// ---------------------------------------------------------------------------------------------
// generate-key

interface KeygenRequest {
  /** Directory whose keys/ folder receives the files; undefined = working directory. */
  outdir?: string | undefined;
  keyfile?: string;
  keyProtectHmac: boolean;
  kpHmacKeygen: boolean;
  kpHmacKeyfile?: string;
  kpHmacInputkey?: string;
}

/**
 * The reference's generate_key(): random keys, or keys derived from an HMAC key (read from a file
 * or generated and saved). Queues the files on `outputs`; returns the keys and the keys file path.
 */
async function produceKeys(io: CliIO, req: KeygenRequest, outputs: OutputSet): Promise<{ keys: NvsKeys; keysPath: string }> {
  const keyfile = req.keyfile ?? defaultKeysFileName();
  const keysDir = join(req.outdir ?? io.cwd, 'keys');
  const keysPath = await resolveTargetPath(keysDir, keyfile, io);
  refuseExistingKey(keysPath);
  let keys: NvsKeys;
  if (req.keyProtectHmac) {
    let hmacKey: Uint8Array;
    if (req.kpHmacKeygen) {
      hmacKey = crypto.getRandomValues(new Uint8Array(32));
      const hmacPath = await resolveTargetPath(keysDir, req.kpHmacKeyfile ?? `hmac-${keyfile}`, io);
      refuseExistingKey(hmacPath);
      outputs.add(hmacPath, hmacKey, KEY_FILE);
    } else if (req.kpHmacInputkey !== undefined) {
      hmacKey = await readInput(io, req.kpHmacInputkey);
      if (hmacKey.length === 0) throw new CliError(`error: ${req.kpHmacInputkey}: the HMAC key file is empty`, 1);
    } else {
      throw new CliError('error: HMAC Key input file (HMAC-based encryption scheme) missing! Use --kp_hmac_keygen or --kp_hmac_inputkey FILE.', 1);
    }
    keys = deriveNvsKeysFromHmac(hmacKey);
  } else {
    keys = generateNvsKeys();
  }
  outputs.add(keysPath, buildKeysPartition(keys), KEY_FILE);
  return { keys, keysPath };
}

/** Key files: 0600, and never replacing an existing file (checked again by the write itself). */
const KEY_FILE = { mode: 0o600, replace: false } as const;

function refuseExistingKey(path: string): void {
  if (existsSync(path)) throw new CliError(`error: ${path} already exists; keys files are never overwritten (choose another --keyfile, or move the old one away)`, 1);
}

/** OutputSet.commit with a clear message when a key file appeared meanwhile (replace: false). */
async function commitKeys(outputs: OutputSet): Promise<void> {
  try {
    await outputs.commit();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST' && typeof e.path === 'string') refuseExistingKey(e.path);
    throw err;
  }
}

export async function runGenerateKey(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    if (wantsHelp(argv)) return void io.stdout(GENERATE_KEY_HELP);
    const args = parseGenerateKeyArgs(argv);
    const outputs = new OutputSet();
    const { keysPath } = await produceKeys(io, args, outputs);
    await commitKeys(outputs);
    io.stdout(`\nCreated encryption keys: ===>  ${keysPath}\n`);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------
// encrypt

const VERSION_TEXT = { 1: 'V1 - Multipage Blob Support Disabled', 2: 'V2 - Multipage Blob Support Enabled' } as const;

/** `encrypt INPUT… OUTPUT SIZE (--keygen | --inputkey KEYS.bin) …`: generate, then encrypt. */
export async function runEncrypt(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    if (wantsHelp(argv)) return void io.stdout(ENCRYPT_HELP);
    const args = parseEncryptArgs(argv);
    // Checks in the reference's order: size, key options, key file, output name.
    const { size } = parsePartitionSize(args.size, io, args.layout);
    if (!args.keygen && args.inputkey === undefined) throw new CliError('Error. --keygen or --inputkey argument needed.', 1);
    if (args.keygen && args.inputkey !== undefined) throw new CliError('Error. --keygen and --inputkey both are not allowed.', 1);
    if (!args.keygen && args.keyfile !== undefined) {
      io.stdout('\nWarning: --inputkey argument is given. --keyfile argument will be ignored...\n');
    }
    let keys: NvsKeys | undefined;
    if (args.inputkey !== undefined) {
      requireBinExtension(args.inputkey);
      keys = await readKeys(io, args.inputkey);
    }
    requireBinExtension(args.output);
    const target = await resolveTargetPath(args.outdir, args.output, io);

    const outputs = new OutputSet();
    // Lines are printed once every output exists, in the reference's order.
    let report = '';
    if (!keys) {
      // With an absolute output the reference drops --outdir, so keys/ lands in the working directory.
      const produced = await produceKeys(io, { ...args, outdir: isAbsolute(args.output) ? undefined : args.outdir }, outputs);
      keys = produced.keys;
      report += `\nCreated encryption keys: ===>  ${produced.keysPath}\n`;
    }
    report += `\nCreating NVS binary with version: ${VERSION_TEXT[args.version]}\n`;
    let plain: Uint8Array;
    try {
      plain = await generateImageFromCsvFiles(args.inputs, { size, version: args.version, layout: args.layout }, io);
    } catch (err) {
      if (err instanceof NvsInputError) throw new CliError(`error: ${err.message}`, NVS_INPUT_ERROR_EXIT);
      throw err;
    }
    outputs.add(target, encryptNvsImage(plain, keys));
    await commitKeys(outputs);
    io.stdout(`${report}\nCreated NVS binary: ===> ${target}\n`);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------
// decrypt

/** `decrypt INPUT.bin KEYS.bin OUTPUT.bin [--outdir DIR]`. */
export async function runDecrypt(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    if (wantsHelp(argv)) return void io.stdout(DECRYPT_HELP);
    const args = parseDecryptArgs(argv);
    for (const f of [args.input, args.key, args.output]) requireBinExtension(f);
    const keys = await readKeys(io, args.key);
    const target = await resolveTargetPath(args.outdir, args.output, io);
    const encrypted = await readInput(io, args.input);
    requireWholePages(args.input, encrypted);
    // 'sequential' reproduces the reference's tweak counting byte for byte (same as per-slot for generator output).
    const plain = decryptNvsImage(encrypted, keys, { tweak: 'sequential' });
    // With the wrong key every decrypted entry fails its CRC (the reference writes the garbage
    // and exits 0): refuse, write nothing. Some failing: written, with a warning.
    const check = readNvsImage(plain);
    const failing = check.problems.filter((p) => p.kind === 'entry-crc').length;
    if (check.warnings.some((w) => /every written entry fails its CRC/.test(w.message))) {
      throw new CliError(`error: ${args.input}: wrong key: with ${args.key} every decrypted entry fails its CRC (is it the keys file this image was encrypted with?); nothing written`, 1);
    }
    if (failing > 0) io.stderr(`warning: ${args.input}: ${failing} decrypted entr${failing === 1 ? 'y fails its' : 'ies fail their'} CRC: the image is damaged (see factory-station nvs inspect)\n`);
    const outputs = new OutputSet();
    outputs.add(target, plain);
    await outputs.commit();
    io.stdout(`\nCreated NVS decrypted binary: ===> ${target}\n`);
    return 0;
  });
}

// ---------------------------------------------------------------------------------------------
// inspect

const INSPECT_USAGE = 'usage: factory-station nvs inspect [-h] [--keyfile KEYFILE] [--json] image\n';
const INSPECT_HELP =
  INSPECT_USAGE +
  '\nRead an NVS partition image and verify it: page headers, entry-state bitmaps, every CRC, spans,\n' +
  'namespaces and blob chunks. Prints pages, namespaces, items and any problems; exits 1 when\n' +
  'problems are found. The value of hap_setup/setup_code is never printed.\n\n' +
  'positional arguments:\n' +
  '  image              NVS image (plain, or encrypted with --keyfile)\n\n' +
  'options:\n' +
  '  -h, --help         show this help message and exit\n' +
  '  --keyfile KEYFILE  keys file to decrypt an encrypted image with\n' +
  '  --json             print the result as JSON\n' +
  nvsTail(['factory-station nvs inspect data.bin --json'], '1  the image has problems (listed), or it could not be read');

interface InspectArgs {
  image: string;
  keyfile?: string;
  json: boolean;
}

/** `inspect IMAGE [--keyfile F] [--json]` with the same conventions as the other sub-commands. */
function parseInspectArgs(argv: readonly string[]): InspectArgs {
  const fail = (msg: string) => nvsUsageError(INSPECT_USAGE, msg);
  const positionals: string[] = [];
  let keyfile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg !== '-') throw fail(`unrecognized arguments: ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name.length > 0 && 'json'.startsWith(name)) {
      if (eq >= 0) throw fail(`argument --json: ignored explicit argument '${arg.slice(eq + 1)}'`);
      json = true;
    } else if (name.length > 0 && 'keyfile'.startsWith(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('-'))) throw fail('argument --keyfile: expected one argument');
      keyfile = value;
    } else {
      throw fail(`unrecognized arguments: ${arg}`);
    }
  }
  if (positionals.length === 0) throw fail('the following arguments are required: image');
  if (positionals.length > 1) throw fail(`unrecognized arguments: ${positionals.slice(1).join(' ')}`);
  return keyfile === undefined ? { image: positionals[0]!, json } : { image: positionals[0]!, keyfile, json };
}

/** The setup code is a secret that must never be shown, wherever it turns up. */
function isSecret(item: NvsItem): boolean {
  return item.namespace === 'hap_setup' && item.key === 'setup_code';
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function displayValue(item: NvsItem): string {
  if (isSecret(item)) return '<hidden>';
  if (typeof item.value === 'bigint') return item.value.toString();
  if (typeof item.value === 'string') {
    // Long strings are cut for the table (--json has them whole).
    const chars = [...item.value];
    return chars.length <= 64 ? JSON.stringify(item.value) : `${JSON.stringify(chars.slice(0, 48).join(''))}… (${item.size} bytes)`;
  }
  const bytes = item.value;
  const shown = bytes.length <= 48 ? hex(bytes) : `${hex(bytes.subarray(0, 32))}… (${bytes.length} bytes)`;
  // Short printable blobs (e.g. the setup ID, written as `binary`) also as text.
  const printable = bytes.length > 0 && bytes.length <= 32 && bytes.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? `${shown} ${JSON.stringify(String.fromCharCode(...bytes))}` : shown;
}

function jsonValue(item: NvsItem): string | null {
  if (isSecret(item)) return null;
  if (typeof item.value === 'bigint') return item.value.toString();
  if (typeof item.value === 'string') return item.value;
  return hex(item.value);
}

function inspectJson(file: string, bytes: number, encrypted: boolean, r: NvsReadResult): string {
  const doc = {
    image: file,
    bytes,
    encrypted,
    pages: r.pages,
    namespaces: r.namespaces,
    items: r.items.map((it) => ({
      namespace: it.namespace,
      nsIndex: it.nsIndex,
      key: it.key,
      type: it.type,
      ...(it.blobFormat ? { blobFormat: it.blobFormat } : {}),
      ...(it.size !== undefined ? { size: it.size } : {}),
      value: jsonValue(it),
      ...(isSecret(it) ? { redacted: true } : {}),
      ...(it.type === 'blob' ? { encoding: 'hex' } : {}),
      page: it.page,
      slot: it.slot,
      intact: it.intact,
    })),
    problems: r.problems,
    warnings: r.warnings,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function table(rows: string[][]): string {
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((row) => `  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd()).join('\n') + '\n';
}

function inspectText(file: string, bytes: number, encrypted: boolean, r: NvsReadResult): string {
  let s = `${file}: ${bytes} bytes, ${r.pages.length} page(s)${encrypted ? ', decrypted with the given keys' : ''}\n`;
  s += '\npages:\n';
  s += table(r.pages.map((p) => p.state === 'EMPTY'
    ? [String(p.index), 'EMPTY']
    : [
        String(p.index),
        p.state,
        `seq ${p.seq}`,
        p.version ? `v${p.version}` : `version byte 0x${p.versionByte!.toString(16)}`,
        p.headerCrcOk ? 'header CRC ok' : 'header CRC BAD',
        `${p.writtenEntries} written, ${p.erasedEntries} erased`,
      ]));
  s += '\nnamespaces:\n';
  s += r.namespaces.length ? table(r.namespaces.map((n) => [String(n.index), n.name, `page ${n.page} slot ${n.slot}`])) : '  (none)\n';
  s += '\nitems:\n';
  s += r.items.length
    ? table(r.items.map((it) => [
        `${it.page}:${it.slot}`,
        it.namespace || `#${it.nsIndex}`,
        it.key,
        it.blobFormat ? `blob(${it.blobFormat})` : it.type,
        (it.intact ? '' : '[DAMAGED] ') + displayValue(it),
      ]))
    : '  (none)\n';
  if (r.warnings.length) s += `\nwarnings:\n${r.warnings.map((w) => `  ${formatProblem(w)}\n`).join('')}`;
  s += r.problems.length
    ? `\nproblems (${r.problems.length}):\n${r.problems.map((p) => `  ${formatProblem(p)}\n`).join('')}`
    : '\nproblems: none\n';
  return s;
}

export async function runInspect(argv: string[], io: CliIO): Promise<number> {
  return runCommand(io, async () => {
    if (wantsHelp(argv)) return void io.stdout(INSPECT_HELP);
    const args = parseInspectArgs(argv);
    let image = await readInput(io, args.image);
    requireWholePages(args.image, image);
    if (args.keyfile !== undefined) image = decryptNvsImage(image, await readKeys(io, args.keyfile));
    const result = readNvsImage(image);
    const encrypted = args.keyfile !== undefined;
    io.stdout((args.json ? inspectJson : inspectText)(args.image, image.length, encrypted, result));
    return result.problems.length ? 1 : 0;
  });
}
