// `factory-station nvs inspect IMAGE [--keyfile KEYS.bin] [--json]`: ours, not the reference's.
// Verifies an NVS image with shared/nvs/reader.ts (optionally decrypting it first) and prints its
// pages, namespaces, items and problems as a table or JSON, never showing the setup code. Owns its
// own argument parsing (a small set of options nvs-args.ts has no use for) and its output formats.
import { runCommand, type CliIO } from '../io.ts';
import { nvsTail, nvsUsageError, wantsHelp } from '../nvs-args.ts';
import { decryptNvsImage } from '../../../shared/nvs/encryption.ts';
import { formatProblem, readNvsImage, type NvsItem, type NvsReadResult } from '../../../shared/nvs/reader.ts';
import { readInput, readKeys, requireWholePages } from './nvs-crypto-files.ts';

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
