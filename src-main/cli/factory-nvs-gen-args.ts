// factory-nvs-gen's command line: the usage and help texts and an emulation of the argparse parser
// of factory_nvs_gen.py (Python 3.11: option abbreviations, `--opt=value`, `--`, negative numbers,
// choices lowered by type=str.lower), so that every accepted command line and every usage error
// (text and exit status 2) is the reference's. Kept apart from the generation (factory-nvs-gen.ts)
// because it is a self-contained copy of foreign parsing rules.
import { CliError, type CliIO } from './io.ts';
import { pyRepr } from './factory-nvs-gen-python.ts';

/** Our name where factory_nvs_gen.py says './factory_nvs_gen.py' (argparse's layout otherwise unchanged). */
const PROG = 'factory-nvs-gen';
const INDENT = ' '.repeat(`usage: ${PROG} `.length);
const USAGE =
  `usage: ${PROG} [-h] [--infile INFILE] [--size SIZE]\n` +
  `${INDENT}[--version {v1,v2}] [--keygen {true,false}]\n` +
  `${INDENT}[--encrypt {true,false}] [--keyfile KEYFILE]\n` +
  `${INDENT}[--outdir OUTDIR] [--salt SALT]\n` +
  `${INDENT}setup_code setup_id outfile\n`;
const HELP =
  USAGE +
  '\nFactory NVS Generator\n\noptions:\n  -h, --help            show this help message and exit\n\n' +
  'To generate Factory NVS partition:\n' +
  '  setup_code            the input setup code without hyphens Eg.: 11122333\n' +
  '  setup_id              the input setup identifier Eg.: ES32\n' +
  '  --infile INFILE       the input csv file with extension(full path) to add\n' +
  '                        HomeKit data generated to this file Eg.: fan_data.csv\n' +
  '  outfile               the output csv and bin filename without extension Eg.:\n' +
  '                        fan_factory\n' +
  '  --size SIZE           Size of NVS Partition in bytes (must be multiple of\n' +
  '                        4096)\n' +
  '  --version {v1,v2}     Set version. Default: v2\n' +
  '  --keygen {true,false}\n' +
  '                        Generate keys for encryption. Creates an\n' +
  '                        `encryption_keys.bin` file. Default: false\n' +
  '  --encrypt {true,false}\n' +
  '                        Set encryption mode. Default: false\n' +
  '  --keyfile KEYFILE     File having key for encryption (Applicable only if\n' +
  '                        encryption mode is true)\n' +
  '  --outdir OUTDIR       the output directory to store the files\n' +
  '                        created(Default: current directory)\n' +
  '  --salt SALT           Predefined salt if any\n' +
  '\nA drop-in for esp-homekit-sdk\'s factory_nvs_gen.py: same arguments, files, bytes, stdout lines\n' +
  'and exit codes; it refuses what the reference lets through (forbidden codes, bad setup IDs,\n' +
  'salts that are not 16 bytes, custom rows touching hap_setup) and never overwrites a keys file.\n' +
  '\nexamples:\n  factory-nvs-gen 11122333 ES32 fan_factory\n  factory-nvs-gen 11122333 ES32 fan_factory --size 0x6000 --infile examples/fan/custom-data.csv --outdir out\n' +
  '\nexit status:\n    0  done\n    1  bad value or input file (the message says which)\n    2  bad command line\n';

/** The parsed command line, defaults filled in as argparse does; values are still unchecked text. */
export interface FactoryNvsGenArgs {
  setupCode: string;
  setupId: string;
  outfile: string;
  infile?: string;
  size: string;
  version: string;
  keygen: string;
  encrypt: string;
  keyfile?: string;
  outdir?: string;
  salt?: string;
}

interface OptionSpec {
  strings: string[];
  dest: keyof FactoryNvsGenArgs | 'help';
  choices?: string[];
}

/** In the order argparse registers them (this order shows in "ambiguous option" errors). */
const OPTIONS: OptionSpec[] = [
  { strings: ['-h', '--help'], dest: 'help' },
  { strings: ['--infile'], dest: 'infile' },
  { strings: ['--size'], dest: 'size' },
  { strings: ['--version'], dest: 'version', choices: ['v1', 'v2'] },
  { strings: ['--keygen'], dest: 'keygen', choices: ['true', 'false'] },
  { strings: ['--encrypt'], dest: 'encrypt', choices: ['true', 'false'] },
  { strings: ['--keyfile'], dest: 'keyfile' },
  { strings: ['--outdir'], dest: 'outdir' },
  { strings: ['--salt'], dest: 'salt' },
];
const OPTION_STRINGS = OPTIONS.flatMap((o) => o.strings.map((s) => ({ s, o })));
const POSITIONALS = ['setup_code', 'setup_id', 'outfile'] as const;

type Classified = { kind: 'A' } | { kind: '--' } | { kind: 'O'; option?: OptionSpec; explicit?: string };

function usageError(message: string): CliError {
  return new CliError(`${USAGE}${PROG}: error: ${message}`, 2);
}

/** argparse's _parse_optional (Python 3.11): what one command-line word is. */
function classify(arg: string): Classified {
  if (arg === '' || arg[0] !== '-') return { kind: 'A' };
  const exact = OPTION_STRINGS.find((e) => e.s === arg);
  if (exact) return { kind: 'O', option: exact.o };
  if (arg.length === 1) return { kind: 'A' };
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    const named = OPTION_STRINGS.find((e) => e.s === arg.slice(0, eq));
    if (named) return { kind: 'O', option: named.o, explicit: arg.slice(eq + 1) };
  }
  const matches = prefixMatches(arg);
  if (matches.length > 1) throw usageError(`ambiguous option: ${arg} could match ${matches.map((m) => m.s).join(', ')}`);
  if (matches.length === 1) return { kind: 'O', option: matches[0]!.o, ...(matches[0]!.explicit !== undefined ? { explicit: matches[0]!.explicit } : {}) };
  if (/^-\d+$|^-\d*\.\d+$/.test(arg)) return { kind: 'A' };
  if (arg.includes(' ')) return { kind: 'A' };
  return { kind: 'O' };
}

/** argparse's abbreviation matching (allow_abbrev). */
function prefixMatches(arg: string): { s: string; o: OptionSpec; explicit?: string }[] {
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const prefix = eq >= 0 ? arg.slice(0, eq) : arg;
    const explicit = eq >= 0 ? arg.slice(eq + 1) : undefined;
    return OPTION_STRINGS.filter((e) => e.s.startsWith(prefix)).map((e) => ({ ...e, ...(explicit !== undefined ? { explicit } : {}) }));
  }
  const short = arg.slice(0, 2);
  return OPTION_STRINGS.filter((e) => e.s === short || e.s.startsWith(arg)).map((e) =>
    e.s === short ? { ...e, explicit: arg.slice(2) } : e,
  );
}

/** Every word classified first, as argparse does (so errors in later words come first). */
function classifyAll(argv: string[]): Classified[] {
  let afterDashDash = false;
  return argv.map((arg): Classified => {
    if (afterDashDash) return { kind: 'A' };
    if (arg === '--') {
      afterDashDash = true;
      return { kind: '--' };
    }
    return classify(arg);
  });
}

/** An option's value: `--opt=value` or the next word (which must be an argument), choices checked. */
function optionValue(option: OptionSpec, explicit: string | undefined, next: string | undefined): string {
  const name = option.strings.join('/');
  if (explicit === undefined && next === undefined) throw usageError(`argument ${name}: expected one argument`);
  let value = explicit ?? next!;
  if (option.choices) {
    value = value.toLowerCase(); // type=str.lower
    if (!option.choices.includes(value)) {
      throw usageError(`argument ${name}: invalid choice: ${pyRepr(value)} (choose from ${option.choices.map(pyRepr).join(', ')})`);
    }
  }
  return value;
}

/** The command line, or 'help' once the help text is printed; a bad one throws argparse's error. */
export function parseArguments(argv: string[], io: CliIO): FactoryNvsGenArgs | 'help' {
  const classified = classifyAll(argv);
  const values: Partial<Record<keyof FactoryNvsGenArgs, string>> = {};
  const positionals: string[] = [];
  const extras: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const c = classified[i]!;
    if (c.kind === '--') continue;
    if (c.kind === 'A') {
      (positionals.length < POSITIONALS.length ? positionals : extras).push(argv[i]!);
      continue;
    }
    const option = c.option;
    if (!option) {
      extras.push(argv[i]!);
      continue;
    }
    if (option.dest === 'help') {
      if (c.explicit !== undefined) throw usageError(`argument ${option.strings.join('/')}: ignored explicit argument ${pyRepr(c.explicit)}`);
      io.stdout(HELP);
      return 'help';
    }
    const takesNext = c.explicit === undefined && classified[i + 1]?.kind === 'A';
    values[option.dest] = optionValue(option, c.explicit, takesNext ? argv[++i] : undefined);
  }
  if (positionals.length < POSITIONALS.length) {
    throw usageError(`the following arguments are required: ${POSITIONALS.slice(positionals.length).join(', ')}`);
  }
  if (extras.length > 0) throw usageError(`unrecognized arguments: ${extras.join(' ')}`);
  return {
    ...values,
    setupCode: positionals[0]!,
    setupId: positionals[1]!,
    outfile: positionals[2]!,
    size: values.size ?? '0x4000',
    version: values.version ?? 'v2',
    keygen: values.keygen ?? 'false',
    encrypt: values.encrypt ?? 'false',
  };
}
