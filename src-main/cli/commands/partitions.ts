// `factory-station partitions INPUT [OUTPUT] [options]` — a drop-in for ESP-IDF's gen_esp32part.py
// (v5.5–v6.0): binary in → CSV out, CSV in → binary out, same options, status lines and warnings on
// stderr, exit 2 on bad input. Output is written atomically and only after every check passed.
import { resolve } from 'node:path';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { decodePartitionBinary, isPartitionBinary, partitionTableToBinary } from '../../../shared/partition/binary.ts';
import { checkBootloaderOffset, decodePartitionCsv } from '../../../shared/partition/csv.ts';
import { parseExtraSubtypes } from '../../../shared/partition/extra-subtypes.ts';
import { partitionTableToCsv } from '../../../shared/partition/format.ts';
import { decodePartitionCsvText } from '../../../shared/partition/input.ts';
import { pyIntBase0 } from '../../../shared/partition/python-text.ts';
import { PartitionTableError, subtypeKeywords, type ExtraSubtype, type PartitionTable } from '../../../shared/partition/types.ts';
import { verifyFlashSize, verifyPartitionTable } from '../../../shared/partition/verify.ts';
import { NOT_A_FILE, readInputFile } from '../../fs/index.ts';
import { VERSION } from '../version.ts';

/** gen_esp32part.py exits 2 for bad input and for usage errors. */
export const PARTITIONS_ERROR_EXIT = 2;

const FLASH_SIZES = ['1MB', '2MB', '4MB', '8MB', '16MB', '32MB', '64MB', '128MB'] as const;

export const PARTITIONS_USAGE = `usage: factory-station partitions [-h] [--flash-size [{${FLASH_SIZES.join(',')}}]]
                                  [--disable-md5sum] [--no-verify] [--verify] [--quiet]
                                  [--offset OFFSET] [--primary-bootloader-offset OFFSET]
                                  [--recovery-bootloader-offset OFFSET] [--secure [{v1,v2}]]
                                  [--extra-partition-subtypes [TYPE,NAME,HEX ...]]
                                  INPUT [OUTPUT]

ESP-IDF partition table utility (same arguments as gen_esp32part.py). A binary INPUT (starts with
AA 50) becomes CSV text; CSV INPUT becomes the 3072-byte binary table.

positional arguments:
  INPUT                 CSV or binary partition table to read
  OUTPUT                file to write (directories are created); stdout if omitted or '-'

options:
  -h, --help            show this help message and exit
  --version             print the version and exit
  --flash-size [SIZE]   check that the table fits a flash of this size
  --disable-md5sum      no MD5 record in the binary (and EB EB records are not MD5 records on input)
  --no-verify           skip the table validation
  --verify, -v          no-op (validation is on by default)
  --quiet, -q           no status lines on stderr (warnings and errors still appear)
  --offset, -o OFFSET   partition table offset (default 0x8000)
  --primary-bootloader-offset OFFSET   offset of the primary bootloader (bootloader entries)
  --recovery-bootloader-offset OFFSET  offset of the recovery bootloader
  --secure [{v1,v2}]    app partitions suitable for secure boot (v1 if no value: 64 KiB app sizes)
  --extra-partition-subtypes [TYPE,NAME,HEX ...]  more subtype keywords (takes every following word)

CSV variables ($NAME, \${NAME}) are expanded from the environment.

examples:
  factory-station partitions examples/fan/partitions.csv partitions.bin
  factory-station partitions partitions.bin -

exit status:
    0  done
    2  bad command line or bad table (as gen_esp32part.py; the message says which)
`;

interface OptionDef {
  long: string;
  short?: string;
  kind: 'flag' | 'value' | 'optional' | 'many';
  choices?: readonly string[];
  /** Value stored when an 'optional' option is given without one. */
  constValue?: string;
}

const OPTIONS: readonly OptionDef[] = [
  { long: 'help', short: 'h', kind: 'flag' },
  { long: 'version', kind: 'flag' },
  { long: 'flash-size', kind: 'optional', choices: FLASH_SIZES },
  { long: 'disable-md5sum', kind: 'flag' },
  { long: 'no-verify', kind: 'flag' },
  { long: 'verify', short: 'v', kind: 'flag' },
  { long: 'quiet', short: 'q', kind: 'flag' },
  { long: 'offset', short: 'o', kind: 'value' },
  { long: 'primary-bootloader-offset', kind: 'value' },
  { long: 'recovery-bootloader-offset', kind: 'value' },
  { long: 'secure', kind: 'optional', choices: ['v1', 'v2'], constValue: 'v1' },
  { long: 'extra-partition-subtypes', kind: 'many' },
];

interface Args {
  input: string;
  output: string;
  flashSize?: string;
  md5: boolean;
  verify: boolean;
  quiet: boolean;
  offset: number;
  primaryBootloaderOffset?: number;
  recoveryBootloaderOffset?: number;
  secure?: 'v1' | 'v2';
  extraSubtypes: string[];
}

function usageError(message: string): CliError {
  return new CliError(`factory-station partitions: ${message} (see factory-station partitions --help)`, PARTITIONS_ERROR_EXIT);
}

/** A word that argparse would read as an option (negative numbers are values). */
function looksLikeOption(arg: string): boolean {
  return arg.startsWith('-') && arg !== '-' && !/^-\d/.test(arg);
}

function findOption(token: string): OptionDef {
  if (token.startsWith('--')) {
    const name = token.slice(2);
    const exact = OPTIONS.find((o) => o.long === name);
    if (exact) return exact;
    const prefixed = OPTIONS.filter((o) => o.long.startsWith(name)); // argparse accepts unique prefixes
    if (prefixed.length === 1) return prefixed[0]!;
    if (prefixed.length > 1) throw usageError(`ambiguous option: ${token} could match ${prefixed.map((o) => `--${o.long}`).join(', ')}`);
  } else {
    const short = OPTIONS.find((o) => o.short === token.slice(1));
    if (short) return short;
  }
  throw usageError(`unrecognized arguments: ${token}`);
}

function parseOffsetValue(option: string, text: string): number {
  const n = pyIntBase0(text);
  if (n === undefined) throw usageError(`argument --${option}: invalid int value: '${text}'`);
  return n;
}

export function parsePartitionsArgs(argv: readonly string[]): Args | 'help' | 'version' {
  const positionals: string[] = [];
  const values = new Map<string, string | string[]>();
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || !looksLikeOption(arg)) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const def = findOption(eq >= 0 ? arg.slice(0, eq) : arg);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (def.long === 'help') return 'help';
    if (def.long === 'version') return 'version';
    if (def.kind === 'flag') {
      if (inline !== undefined) throw usageError(`argument --${def.long}: ignored explicit argument '${inline}'`);
      values.set(def.long, 'true');
    } else if (def.kind === 'many') {
      const list = inline !== undefined ? [inline] : [];
      while (inline === undefined && i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) list.push(argv[++i]!);
      values.set(def.long, list);
    } else {
      let value = inline;
      if (value === undefined && i + 1 < argv.length && !looksLikeOption(argv[i + 1]!)) value = argv[++i];
      if (value === undefined) {
        if (def.kind === 'value') throw usageError(`argument --${def.long}: expected one argument`);
        if (def.constValue === undefined) {
          values.delete(def.long);
          continue;
        }
        value = def.constValue;
      }
      if (def.choices && !def.choices.includes(value)) {
        throw usageError(`argument --${def.long}: invalid choice: '${value}' (choose from ${def.choices.map((c) => `'${c}'`).join(', ')})`);
      }
      values.set(def.long, value);
    }
  }
  if (positionals.length === 0) throw usageError('the following arguments are required: input');
  if (positionals.length > 2) throw usageError(`unrecognized arguments: ${positionals.slice(2).join(' ')}`);
  const str = (k: string) => values.get(k) as string | undefined;
  const num = (k: string) => (str(k) === undefined ? undefined : parseOffsetValue(k, str(k)!));
  return {
    input: positionals[0]!,
    output: positionals[1] ?? '-',
    flashSize: str('flash-size'),
    md5: !values.has('disable-md5sum'),
    verify: !values.has('no-verify'),
    quiet: values.has('quiet'),
    offset: num('offset') ?? 0x8000,
    primaryBootloaderOffset: num('primary-bootloader-offset'),
    recoveryBootloaderOffset: num('recovery-bootloader-offset'),
    secure: str('secure') as Args['secure'],
    extraSubtypes: (values.get('extra-partition-subtypes') as string[] | undefined) ?? [],
  };
}

async function readInput(path: string, io: CliIO): Promise<Uint8Array> {
  if (path === '-') throw usageError("argument input: reading the table from stdin is not supported; give a file");
  try {
    return await readInputFile(resolve(io.cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EISDIR' ? 'Is a directory' : code === 'EACCES' ? 'Permission denied' : code === NOT_A_FILE ? 'Is a device, not a file' : String(code);
    throw usageError(`argument input: can't open '${path}': ${why}`);
  }
}

/** The conversion itself; status lines and warnings go to stderr in the tool's order. */
function convert(bytes: Uint8Array, args: Args, io: CliIO, extraSubtypes: ExtraSubtype[]): Uint8Array | string {
  const subtypes = subtypeKeywords(extraSubtypes);
  const status = (line: string) => { if (!args.quiet) io.stderr(`${line}\n`); };
  const onWarning = (line: string) => io.stderr(`${line}\n`);
  let table: PartitionTable;
  const inputIsBinary = isPartitionBinary(bytes);
  if (inputIsBinary) {
    status('Parsing binary partition input...');
    table = decodePartitionBinary(bytes, { md5: args.md5, onWarning });
  } else {
    const text = decodePartitionCsvText(bytes);
    status('Parsing CSV input...');
    table = decodePartitionCsv(text, {
      offset: args.offset,
      env: io.env,
      primaryBootloaderOffset: args.primaryBootloaderOffset,
      recoveryBootloaderOffset: args.recoveryBootloaderOffset,
      extraSubtypes,
    });
  }
  if (args.verify) {
    status('Verifying table...');
    verifyPartitionTable(table, { offset: args.offset, secure: args.secure, subtypes, onWarning });
  }
  if (args.flashSize !== undefined) verifyFlashSize(table, Number.parseInt(args.flashSize, 10) * 1024 * 1024);
  return inputIsBinary ? partitionTableToCsv(table, { subtypes }) : partitionTableToBinary(table, { md5: args.md5 });
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const args = parsePartitionsArgs(argv);
  if (args === 'version') return (io.stdout(`${VERSION}\n`), 0);
  if (args === 'help') {
    io.stdout(PARTITIONS_USAGE);
    return 0;
  }
  let output: Uint8Array | string;
  try {
    const bytes = await readInput(args.input, io); // argparse opens INPUT while parsing arguments
    checkBootloaderOffset(args);
    const extraSubtypes = parseExtraSubtypes(args.extraSubtypes);
    subtypeKeywords(extraSubtypes); // duplicate values are refused before the input is parsed
    output = convert(bytes, args, io, extraSubtypes);
  } catch (err) {
    if (err instanceof PartitionTableError) {
      throw new CliError([...err.details, err.message].join('\n'), PARTITIONS_ERROR_EXIT);
    }
    throw err;
  }
  if (args.output === '-') {
    if (typeof output === 'string') io.stdout(output);
    else if (io.stdoutBytes) io.stdoutBytes(output);
    else throw new CliError('factory-station partitions: cannot write a binary table to this output; give an OUTPUT file', PARTITIONS_ERROR_EXIT);
  } else {
    await writeFileAtomic(resolve(io.cwd, args.output), output);
  }
  return 0;
}
