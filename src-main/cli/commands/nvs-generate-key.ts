// `factory-station nvs generate-key [--keyfile NAME] [--outdir DIR] [HMAC options]`: the
// reference's generate-key sub-command (same options, file and stdout line). Its help text and
// entry point only; making and writing the keys is shared with `encrypt` (./nvs-crypto-files.ts).
import { OutputSet, runCommand, type CliIO } from '../io.ts';
import { GENERATE_KEY_USAGE, nvsTail, parseGenerateKeyArgs, wantsHelp } from '../nvs-args.ts';
import { commitKeys, KEY_OPTIONS_HELP, produceKeys } from './nvs-crypto-files.ts';

const GENERATE_KEY_HELP =
  GENERATE_KEY_USAGE +
  '\nGenerate NVS encryption keys (XTS-AES-256 data key + tweak key) as a 4096-byte keys partition\n' +
  'image (eky | tky | CRC32 | 0xFF padding) in OUTDIR/keys/.\n\n' +
  'options:\n' +
  '  -h, --help            show this help message and exit\n' +
  KEY_OPTIONS_HELP +
  '  --outdir OUTDIR       output directory (default: current directory)\n' +
  nvsTail(['factory-station nvs generate-key --keyfile product-keys.bin --outdir keys-out'], '1  failed, e.g. the keys file already exists (never overwritten)');

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
