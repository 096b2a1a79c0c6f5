// `factory-station nvs <generate|generate-key|encrypt|decrypt|inspect> …` — a drop-in for
// Espressif's nvs_partition_gen.py (same positionals and options). `generate` lives here; the
// key/encryption/inspection sub-commands are in ./nvs-crypto.ts.
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import {
  GENERATE_USAGE,
  USAGE_EXIT,
  parseGenerateArgs,
  parsePartitionSize,
  requireBinExtension,
  resolveTargetPath,
  wantsHelp,
} from '../nvs-args.ts';
import { generateImageFromCsvFiles } from '../../nvs/generate.ts';
import { VERSION } from '../version.ts';
import { NvsInputError } from '../../../shared/nvs/writer.ts';

/** Exit status of the reference for bad CSV content (its InputError → sys.exit(-2)). */
export const NVS_INPUT_ERROR_EXIT = 254;

export const NVS_USAGE = `usage: factory-station nvs <command> [options]

ESP-IDF NVS partition images; arguments as nvs_partition_gen.py.

commands:
  generate      INPUT... OUTPUT SIZE [--version 1|2] [--outdir DIR]   build an image from CSV
  generate-key  [--keyfile NAME] [--outdir DIR] [HMAC options]        make an XTS keys file
  encrypt       INPUT... OUTPUT SIZE (--keygen | --inputkey KEYS.bin) build an encrypted image
  decrypt       INPUT.bin KEYS.bin OUTPUT.bin [--outdir DIR]          decrypt an image
  inspect       IMAGE.bin [...]                                       list and verify an image's contents

Run 'factory-station nvs <command> --help' for a command's options.

examples:
  factory-station nvs generate examples/fan/custom-data.csv data.bin 0x6000
  factory-station nvs inspect data.bin

exit status:
    0  done
    1  failed (the message says why)
    2  bad command line (the message names the option or argument)
  254  bad CSV content (as nvs_partition_gen.py; the message names file, line and key)
`;

const VERSION_PRINT = { 1: 'V1 - Multipage Blob Support Disabled', 2: 'V2 - Multipage Blob Support Enabled' } as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  // generate and encrypt keep nvs_partition_gen.py's --version (the NVS format); the others print ours.
  if (sub !== 'generate' && sub !== 'encrypt' && rest.includes('--version') && !rest.includes('--help') && !rest.includes('-h')) {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  switch (sub) {
    case undefined:
      io.stderr(NVS_USAGE);
      return USAGE_EXIT;
    case '-h':
    case '--help':
    case 'help':
      io.stdout(NVS_USAGE);
      return 0;
    case '--version':
      io.stdout(`${VERSION}\n`);
      return 0;
    case 'generate':
      return runGenerate(rest, io);
    case 'generate-key':
      return (await import('./nvs-crypto.ts')).runGenerateKey(rest, io);
    case 'encrypt':
      return (await import('./nvs-crypto.ts')).runEncrypt(rest, io);
    case 'decrypt':
      return (await import('./nvs-crypto.ts')).runDecrypt(rest, io);
    case 'inspect':
      return (await import('./nvs-crypto.ts')).runInspect(rest, io);
    default:
      throw new CliError(`factory-station nvs: ${sub.startsWith('-') ? `unknown option ${sub}` : `unknown command '${sub}'`} (see factory-station nvs --help)`, USAGE_EXIT);
  }
}

/**
 * `generate INPUT… OUTPUT SIZE [--version 1|2] [--outdir DIR] [--layout L]`: same checks, output
 * path and stdout lines as the reference; the image is written atomically and only when complete.
 * Bad CSV content: one line on stderr naming file, line and key; exit 254; no output file.
 */
export async function runGenerate(argv: string[], io: CliIO): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout(GENERATE_USAGE);
    return 0;
  }
  const args = parseGenerateArgs(argv);
  const { size } = parsePartitionSize(args.size, io, args.layout);
  requireBinExtension(args.output);
  const target = await resolveTargetPath(args.outdir, args.output, io);
  io.stdout(`\nCreating NVS binary with version: ${VERSION_PRINT[args.version]}\n`);
  let image: Uint8Array;
  try {
    image = await generateImageFromCsvFiles(args.inputs, { size, version: args.version, layout: args.layout }, io);
  } catch (err) {
    if (err instanceof NvsInputError) throw new CliError(`error: ${err.message}`, NVS_INPUT_ERROR_EXIT);
    throw err;
  }
  await writeFileAtomic(target, image);
  io.stdout(`\nCreated NVS binary: ===> ${target}\n`);
  return 0;
}
