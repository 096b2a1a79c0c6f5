// One command-line style for every `factory-station` verb (and factory-nvs-gen): each verb declares
// its options, arguments, examples and exit codes once; from that come the parser (node:util
// parseArgs underneath) and the --help text. Mistakes get one line on stderr that names the option
// or argument and points at --help, with exit status 2 — never Node's raw message and a page of usage.
import { parseArgs } from 'node:util';
import { CliError } from './io.ts';

export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, in the help: FILE, PORT, N … */
  arg?: string;
  /** Shown as "(default: …)". */
  default?: string;
  help: string;
  /** Other accepted spellings (kept only where a drop-in for Espressif's tools needs them). */
  aliases?: string[];
  multiple?: boolean;
}

export interface CommandDef {
  /** 'factory-station provision', 'factory-nvs-gen' … */
  program: string;
  summary: string;
  /** Usage lines after the program name ("--profile FILE --port PORT [options]"). */
  synopsis: string[];
  /** Paragraphs after the usage. */
  description?: string;
  /** How many positional arguments, and their names for messages. */
  args?: { min: number; max: number; names: string };
  options: Record<string, OptionDef>;
  examples: string[];
  exitCodes: Record<number, string>;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand {
  values: OptionValues;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** The exit codes every verb shares. */
export const COMMON_EXIT_CODES: Record<number, string> = { 0: 'done', 1: 'failed (the message says why)', 2: 'bad command line (the message names the option or argument)' };

function usageError(def: CommandDef, detail: string): CliError {
  return new CliError(`${def.program}: ${detail} (see ${def.program} --help)`, 2);
}

/** Parses argv against the command's definition; throws a one-line CliError (exit 2) on any mistake. */
export function parseCommand(def: CommandDef, argv: string[]): ParsedCommand {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  const canonical = new Map<string, string>([['help', 'help']]);
  // A drop-in whose reference tool has its own --version (the NVS format: batch, nvs) keeps it.
  const ownVersion = Object.hasOwn(def.options, 'version');
  if (!ownVersion) (config.version = { type: 'boolean' }), canonical.set('version', 'version');
  for (const [name, o] of Object.entries(def.options)) {
    config[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
    canonical.set(name, name);
    for (const alias of o.aliases ?? []) (config[alias] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) }), canonical.set(alias, name);
  }
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof config; allowPositionals: true; strict: false; tokens: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: false, tokens: true });
  } catch (err) {
    throw usageError(def, (err as Error).message.split('\n')[0]!.replace(/\.$/, ''));
  }
  const values: OptionValues = {};
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    const name = canonical.get(t.name);
    const shown = t.rawName;
    if (!name) throw usageError(def, `unknown option ${shown}`);
    const type = config[t.name]!.type;
    if (type === 'string' && t.value === undefined) throw usageError(def, `option ${shown} needs a value`);
    if (type === 'boolean' && t.inlineValue) throw usageError(def, `option ${shown} takes no value`);
    if (config[t.name]!.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), t.value as string];
    else if (type === 'boolean') values[name] = true;
    else values[name] = t.value; // given twice: the last one counts (as argparse and most tools do)
  }
  const help = values.help === true;
  const version = !ownVersion && values.version === true;
  delete values.help;
  if (!ownVersion) delete values.version;
  const positionals = parsed.positionals;
  if (!help && !version) {
    const { min, max, names } = def.args ?? { min: 0, max: 0, names: '' };
    if (positionals.length > max) throw usageError(def, `unexpected argument '${positionals[max]}'`);
    if (positionals.length < min) throw usageError(def, `missing ${names}`);
  }
  return { values, positionals, help, version };
}

function optionLine(name: string, o: OptionDef): [string, string] {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
  const extras = [o.default !== undefined ? `default: ${o.default}` : '', o.aliases?.length ? `also ${o.aliases.map((a) => `--${a}`).join(', ')}` : '', o.multiple ? 'repeatable' : '']
    .filter(Boolean)
    .join('; ');
  return [flag, extras ? `${o.help} (${extras})` : o.help];
}

/** The --help text: usage, what it does, every option with its default, examples, exit codes. */
export function helpText(def: CommandDef): string {
  const lines = def.synopsis.map((s, i) => `${i === 0 ? 'usage: ' : '       '}${def.program} ${s}`);
  const opts = Object.entries(def.options).map(([n, o]) => optionLine(n, o));
  opts.push(['-h, --help', 'this help']);
  if (!Object.hasOwn(def.options, 'version')) opts.push(['    --version', 'print the version and exit']);
  const width = Math.min(Math.max(...opts.map(([f]) => f.length)), 34);
  const optionText = opts.map(([f, h]) => (f.length > width ? `  ${f}\n  ${''.padEnd(width)}  ${h}` : `  ${f.padEnd(width)}  ${h}`));
  const codes = Object.entries(def.exitCodes).map(([c, m]) => `  ${c.padStart(3)}  ${m}`);
  return [
    ...lines,
    '',
    def.summary,
    ...(def.description ? ['', def.description.trimEnd()] : []),
    '',
    'options:',
    ...optionText,
    '',
    'examples:',
    ...def.examples.map((e) => `  ${e}`),
    '',
    'exit status:',
    ...codes,
    '',
  ].join('\n');
}
