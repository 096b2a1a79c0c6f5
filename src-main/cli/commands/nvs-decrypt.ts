// `factory-station nvs decrypt INPUT.bin KEYS.bin OUTPUT.bin [--outdir DIR]`: the reference's
// decrypt sub-command (same arguments, file and stdout line), except that a wrong key is detected
// (every decrypted entry fails its CRC) and refused instead of writing garbage. One file per
// sub-command so each reads on its own; the shared file rules are in ./nvs-crypto-files.ts.
import { CliError, OutputSet, runCommand, type CliIO } from '../io.ts';
import { DECRYPT_USAGE, nvsTail, parseDecryptArgs, requireBinExtension, resolveTargetPath, wantsHelp } from '../nvs-args.ts';
import { decryptNvsImage } from '../../../shared/nvs/encryption.ts';
import { readNvsImage } from '../../../shared/nvs/reader.ts';
import { readInput, readKeys, requireWholePages } from './nvs-crypto-files.ts';

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
