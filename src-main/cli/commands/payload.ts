// `factory-station payload --category N --code DDDDDDDD --id XXXX [--flags ip,ble,wac,paired]
// [--product-data HEX] [--qr FILE.svg|FILE.png]`: prints the HomeKit setup payload (X-HM://…) on one
// line, like setup_payload_gen.py's last line, and optionally writes its QR code.
import { parseArgs } from 'node:util';
import { extname, resolve } from 'node:path';
import QRCode from 'qrcode';
import { buildSetupPayload, ESPRESSIF_DEFAULT_FLAGS, type SetupPayloadFlags } from '../../../shared/homekit/payload.ts';
import { SetupDataError } from '../../../shared/homekit/setup-code.ts';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';

const USAGE_EXIT = 2;

export const PAYLOAD_HELP = `usage: factory-station payload --category N --code DDDDDDDD --id XXXX
                              [--flags ip,ble,wac,paired] [--product-data HEX]
                              [--qr FILE.svg|FILE.png]

Prints the HomeKit setup payload (the X-HM://... text of the label's QR code) on one line.

options:
  -h, --help            show this help message and exit
  --category N          accessory category identifier, 1-255 (e.g. 5 lighting, 7 outlet)
  --code CODE           setup code, DDDDDDDD or DDD-DD-DDD (not needed with --flags paired)
  --id ID               setup ID, 4 characters 0-9/A-Z (not needed with --flags paired)
  --flags LIST          comma-separated: ip, ble, wac, paired (default: ip,wac as Espressif's
                        setup_payload_gen.py; list what the accessory really supports)
  --product-data HEX    16 hex digits from the MFi portal (Espressif variant: the last 8 are used)
  --qr FILE             also write the QR code (error correction M, 4-module quiet zone) as .svg
                        or .png (8 pixels per module)
`;

const FLAG_NAMES = ['ip', 'ble', 'wac', 'paired'] as const;

export async function run(argv: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        category: { type: 'string' },
        code: { type: 'string' },
        id: { type: 'string' },
        flags: { type: 'string' },
        'product-data': { type: 'string' },
        qr: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new CliError(`factory-station payload: ${(err as Error).message}\nRun 'factory-station payload --help' for the options.`, USAGE_EXIT);
  }
  if (values.help) {
    io.stdout(PAYLOAD_HELP);
    return 0;
  }

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
