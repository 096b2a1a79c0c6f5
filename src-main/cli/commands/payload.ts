// `factory-station payload --category N --code DDDDDDDD --id XXXX [--flags ip,ble,wac,paired]
// [--product-data HEX] [--qr FILE.svg|FILE.png]`: prints the HomeKit setup payload (X-HM://…) on one
// line, like setup_payload_gen.py's last line, and optionally writes its QR code.
import { extname, resolve } from 'node:path';
import QRCode from 'qrcode';
import { buildSetupPayload, ESPRESSIF_DEFAULT_FLAGS, type SetupPayloadFlags } from '../../../shared/homekit/payload.ts';
import { SetupDataError } from '../../../shared/homekit/setup-code.ts';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { VERSION } from '../version.ts';

const USAGE_EXIT = 2;

export const DEF: CommandDef = {
  program: 'factory-station payload',
  summary: "Print the HomeKit setup payload (the X-HM://… text of the label's QR code) on one line.",
  synopsis: ['--category N --code DDDDDDDD --id XXXX [--flags ip,ble,wac,paired] [--product-data HEX] [--qr FILE.svg|FILE.png]'],
  options: {
    category: { type: 'string', arg: 'N', help: 'accessory category identifier, 1-255 (e.g. 5 lighting, 7 outlet); required' },
    code: { type: 'string', arg: 'CODE', help: 'setup code, DDDDDDDD or DDD-DD-DDD (not needed with --flags paired)' },
    id: { type: 'string', arg: 'ID', help: 'setup ID, 4 characters 0-9/A-Z (not needed with --flags paired)' },
    flags: { type: 'string', arg: 'LIST', default: 'ip,wac (as setup_payload_gen.py)', help: 'comma-separated: ip, ble, wac, paired — list what the accessory really supports' },
    'product-data': { type: 'string', arg: 'HEX', help: '16 hex digits from the MFi portal (Espressif variant: the last 8 are used)' },
    qr: { type: 'string', arg: 'FILE', help: 'also write the QR code (error correction M, 4-module quiet zone) as .svg or .png (8 pixels per module)' },
  },
  examples: ['factory-station payload --category 5 --code 11122333 --id ES32 --flags ip,wac --qr qr.svg'],
  exitCodes: COMMON_EXIT_CODES,
};

/** Kept for callers that print the help text. */
export const PAYLOAD_HELP = helpText(DEF);

const FLAG_NAMES = ['ip', 'ble', 'wac', 'paired'] as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(DEF, argv);
  if (parsed.help) return (io.stdout(helpText(DEF)), 0);
  if (parsed.version) return (io.stdout(`${VERSION}\n`), 0);
  const values = parsed.values as Record<string, string | boolean | undefined>;

  const flags = parseFlags(typeof values.flags === 'string' ? values.flags : undefined);
  const category = parseCategory(values.category as string | undefined);
  const code = values.code as string | undefined;
  const id = values.id as string | undefined;
  if (!flags.paired && code === undefined) throw new CliError('payload: --code is required (unless --flags includes paired)', USAGE_EXIT);
  if (!flags.paired && id === undefined) throw new CliError('payload: --id is required (unless --flags includes paired)', USAGE_EXIT);
  const productData = values['product-data'] as string | undefined;

  let payload: string;
  try {
    payload = buildSetupPayload({
      category,
      flags,
      ...(code !== undefined ? { setupCode: code } : {}),
      ...(id !== undefined ? { setupId: id } : {}),
      ...(productData !== undefined ? { productData } : {}),
    });
  } catch (err) {
    if (err instanceof SetupDataError) throw new CliError(`payload: ${err.message}`, USAGE_EXIT);
    throw err;
  }

  const qr = values.qr as string | undefined;
  if (qr !== undefined) await writeQr(payload, qr, io);
  io.stdout(`${payload}\n`);
  return 0;
}

function parseFlags(text: string | undefined): SetupPayloadFlags {
  if (text === undefined) return { ...ESPRESSIF_DEFAULT_FLAGS };
  const flags: SetupPayloadFlags = {};
  for (const raw of text.split(',')) {
    const name = raw.trim().toLowerCase();
    if (!(FLAG_NAMES as readonly string[]).includes(name)) {
      throw new CliError(`payload: unknown flag ${JSON.stringify(raw)} in --flags (use ${FLAG_NAMES.join(', ')})`, USAGE_EXIT);
    }
    flags[name as (typeof FLAG_NAMES)[number]] = true;
  }
  return flags;
}

function parseCategory(text: string | undefined): number {
  if (text === undefined) throw new CliError('payload: --category is required (1-255, e.g. 5 for a light)', USAGE_EXIT);
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 255) {
    throw new CliError(`payload: --category must be a number from 1 to 255 (got ${JSON.stringify(text)})`, USAGE_EXIT);
  }
  return Number(text);
}

async function writeQr(payload: string, file: string, io: CliIO): Promise<void> {
  const options = { errorCorrectionLevel: 'M' as const, margin: 4 };
  const ext = extname(file).toLowerCase();
  let data: string | Uint8Array;
  if (ext === '.svg') data = await QRCode.toString(payload, { ...options, type: 'svg' });
  else if (ext === '.png') data = await QRCode.toBuffer(payload, { ...options, type: 'png', scale: 8 });
  else throw new CliError(`payload: --qr ${file}: the file name must end in .svg or .png`, USAGE_EXIT);
  await writeFileAtomic(resolve(io.cwd, file), data);
}
