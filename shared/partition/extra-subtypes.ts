// `--extra-partition-subtypes TYPE,NAME,HEX …` (what ESP-IDF's build passes from
// extra_partition_subtypes.inc): extra subtype keywords for the built-in types.
import { pyIntBase16, pyStrip } from './python-text.ts';
import { PartitionTableError, TYPE_KEYWORDS, type ExtraSubtype } from './types.ts';

/**
 * Parses `TYPE,NAME,HEX` words (value in hex, `0x` optional; fields after the third ignored).
 * Duplicate values are rejected later, by subtypeKeywords().
 */
export function parseExtraSubtypes(specs: readonly string[]): ExtraSubtype[] {
  return specs.map((spec) => {
    const [type = '', name, value] = spec.split(',').map(pyStrip);
    const fail = (why: string) => new PartitionTableError(`Error parsing custom subtypes: ${why}`, { code: 'extra-subtype' });
    if (name === undefined || value === undefined) throw fail(`'${spec}' is not TYPE,NAME,HEX`);
    const n = pyIntBase16(value);
    if (n === undefined) throw fail(`invalid literal for int() with base 16: '${value}'`);
    if (!TYPE_KEYWORDS.has(type)) throw fail('Invalid partition type');
    return { type: type as ExtraSubtype['type'], name, value: n };
  });
}
