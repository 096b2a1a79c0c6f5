// `factory-station nvs encrypt INPUT… OUTPUT SIZE (--keygen | --inputkey KEYS.bin) …`: the
// reference's encrypt sub-command: generate the image from CSV as `nvs generate` does, then
// encrypt it (XTS-AES-256), with new keys or a given keys file. Same checks in the same order,
// same files and stdout lines; nothing is written unless the image and any keys are all produced.
import { isAbsolute } from 'node:path';
import { CliError, OutputSet, runCommand, type CliIO } from '../io.ts';
import { ENCRYPT_USAGE, nvsTail, parseEncryptArgs, parsePartitionSize, requireBinExtension, resolveTargetPath, wantsHelp } from '../nvs-args.ts';
import { generateImageFromCsvFiles } from '../../nvs/generate.ts';
import { encryptNvsImage, type NvsKeys } from '../../../shared/nvs/encryption.ts';
import { NvsInputError } from '../../../shared/nvs/writer.ts';
import { commitKeys, KEY_OPTIONS_HELP, produceKeys, readKeys } from './nvs-crypto-files.ts';

/** Exit status of the reference for bad CSV content (InputError → sys.exit(-2)). */
const NVS_INPUT_ERROR_EXIT = 254;

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
