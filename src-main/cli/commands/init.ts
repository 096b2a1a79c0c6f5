// `factory-station init [DIR]`: a starter product a newcomer can provision at once — profile,
// partition table and custom NVS data, each explained, for the chip and category asked. Nothing
// existing is overwritten; the profile is checked by the same loader `provision` uses.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { HOMEKIT_CATEGORIES, parseCategory } from '../../../shared/homekit/categories.ts';
import { HOMEKIT_PARTITION_CSV, loadProfile } from '../../station/profile-file.ts';
import { ensureDirSync } from '../../fs/index.ts';
import { COMMON_EXIT_CODES, helpText, parseCommand, type CommandDef } from '../command.ts';
import { CliError, writeFileAtomic, type CliIO } from '../io.ts';
import { VERSION } from '../version.ts';
import { CHIP_IDS, isChipId } from '../../../shared/chips.ts';


export const DEF: CommandDef = {
  program: 'factory-station init',
  summary: 'Write a starter product (profile, partition table, custom NVS data) ready for `provision`.',
  synopsis: ['[DIR] [--name NAME] [--category N|NAME] [--chip CHIP]'],
  description: `DIR (default ./my-product) gets profile.json, partitions.csv, custom-data.csv and a README.md
explaining each. Existing files are never overwritten. Categories by number (1–255) or name
(${Object.values(HOMEKIT_CATEGORIES).slice(0, 8).join(', ')} …).`,
  args: { min: 0, max: 1, names: 'DIR' },
  options: {
    name: { type: 'string', arg: 'NAME', default: 'My Accessory', help: 'product name (on the label)' },
    category: { type: 'string', arg: 'N|NAME', default: 'outlet (7)', help: 'HomeKit accessory category' },
    chip: { type: 'string', arg: 'CHIP', help: `the chip every unit must be (${CHIP_IDS.join(', ')}); default: any` },
  },
  examples: ['factory-station init lamp --name "Garden Lamp" --category lighting --chip esp32c3', 'factory-station provision --profile lamp/profile.json --port virtual:esp32c3'],
  exitCodes: COMMON_EXIT_CODES,
};

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'product';
}

const CUSTOM_DATA = `key,type,encoding,value
# Constant data every unit of this product carries, merged into the factory NVS partition before
# the HomeKit identity (namespace hap_setup, which this file may not touch). The firmware reads
# it with nvs_get_str / nvs_get_u8 … from the factory_nvs partition. Format: nvs_partition_gen.py.
app,namespace,,
model,data,string,MODEL-1
hw_rev,data,u8,1
`;

const PARTITIONS = `# Partition table (gen_esp32part.py format), as esp-homekit-sdk's examples use it.
# factory_nvs holds each unit's HomeKit identity (salt + verifier + setup ID, never the code);
# its size must be at least the profile's nvs.size.
${HOMEKIT_PARTITION_CSV}`;

function readme(at: string, name: string, category: number, chip: string | undefined): string {
  return `# ${name}

A starter product for HomeKit Factory Station (made by \`factory-station init\`, version ${VERSION}).

| file | what |
| --- | --- |
| profile.json | the product: name, HomeKit category ${category} (${HOMEKIT_CATEGORIES[category] ?? 'custom'}), NVS size, files, label, printer${chip ? `, chip ${chip}` : ''} |
| partitions.csv | the partition table flashed with every unit (factory_nvs = the identity) |
| custom-data.csv | constant NVS data for your firmware |

Try it without hardware:

    npx factory-station provision --profile ${at}/profile.json --port virtual:${chip ?? 'esp32c3'} --db ${at}/station.db --label-out ${at}/labels

Then on a real bench, \`--port /dev/ttyUSB0\` (or COM3). Add your firmware with
"firmware": { "flasherArgs": "build/flasher_args.json" } — the field reference is docs/profile.md.
`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals, help, version } = parseCommand(DEF, argv);
  if (help) return (io.stdout(helpText(DEF)), 0);
  if (version) return (io.stdout(`${VERSION}\n`), 0);
  const name = ((values.name as string | undefined) ?? 'My Accessory').trim();
  if (!name || name.length > 64) throw new CliError('init: --name must be 1 to 64 characters', 2);
  const category = values.category === undefined ? 7 : parseCategory(values.category as string);
  if (category === undefined) throw new CliError(`init: --category must be 1–255 or one of: ${Object.values(HOMEKIT_CATEGORIES).join(', ')}`, 2);
  const chip = values.chip as string | undefined;
  if (chip !== undefined && !isChipId(chip)) throw new CliError(`init: --chip must be one of ${CHIP_IDS.join(', ')}`, 2);
  const dir = resolve(io.cwd, positionals[0] ?? 'my-product');
  const files: Record<string, string> = {
    'profile.json': `${JSON.stringify(profileJson(dir, name, category, chip), null, 2)}\n`,
    'partitions.csv': PARTITIONS,
    'custom-data.csv': CUSTOM_DATA,
    'README.md': readme(relative(io.cwd, dir) || '.', name, category, chip),
  };
  const clash = Object.keys(files).find((f) => existsSync(resolve(dir, f)));
  if (clash) throw new CliError(`init: ${resolve(dir, clash)} already exists: choose another folder (nothing was written)`, 1);
  ensureDirSync(dir);
  for (const [file, text] of Object.entries(files)) await writeFileAtomic(resolve(dir, file), text);
  await loadProfile(resolve(dir, 'profile.json')); // the same check provision makes
  const shown = relative(io.cwd, dir) || '.';
  io.stdout(`Wrote ${Object.keys(files).map((f) => `${shown}/${f}`).join(', ')}.\nTry it: npx factory-station provision --profile ${shown}/profile.json --port virtual:${chip ?? 'esp32c3'}\n`);
  return 0;
}

/** The repository's profile JSON Schema when DIR is inside a checkout (editors then complete and check fields). */
function findSchema(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'docs', 'profile.schema.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(d) === d) return undefined;
  }
}

function profileJson(dir: string, name: string, category: number, chip: string | undefined): Record<string, unknown> {
  const schema = findSchema(dir);
  return {
    ...(schema ? { $schema: relative(dir, schema) } : {}),
    description: `${name}: HomeKit category ${category}. Field reference: docs/profile.md.`,
    schema: 1,
    id: slug(name),
    productName: name,
    category,
    flags: { ip: true, wac: true },
    nvs: { size: 0x6000, version: 2, layout: 'homekit' },
    customData: { csv: 'custom-data.csv' },
    firmware: { partitionTable: 'partitions.csv' },
    ...(chip ? { expectedChip: chip } : {}),
    verify: 'md5',
    label: { size: '40x30', showProductName: true, showMac: true, showUnit: true },
    printer: { mode: 'pdf' },
  };
}
