// NVS CSV reading = Python csv.DictReader(excel) over the physical lines not starting with '#',
// after universal-newline translation. Expected rows are what CPython 3 returns for each text.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNvsCsv, CSV_FIELD_SIZE_LIMIT } from '../../shared/nvs/csv.ts';
import { NvsInputError } from '../../shared/nvs/errors.ts';
import { FIXTURES } from './vectors.ts';

const H = 'key,type,encoding,value\n';
const values = (text: string) => parseNvsCsv(text).map((r) => r.value);

describe('parseNvsCsv', () => {
  it('drops lines starting with # anywhere, even inside a quoted value', () => {
    expect(values(`${H}k,data,string,"a\n#hidden\nb"\n`)).toEqual(['a\nb']);
  });

  it('keeps a # that is not the first character', () => {
    expect(parseNvsCsv(`${H} #k,data,u8,1\n`).map((r) => r.key)).toEqual([' #k']);
  });

  it('follows Python quoting: doubled quotes, text after a closing quote, literal inner quotes', () => {
    expect(values(`${H}k,data,string,"say ""hi"""\n`)).toEqual(['say "hi"']);
    expect(values(`${H}k,data,string,"ab"cd\n`)).toEqual(['abcd']);
    expect(values(`${H}k,data,string,ab"cd\n`)).toEqual(['ab"cd']);
    expect(values(`${H}k,data,string,"a" ,z\n`)).toEqual(['a ']);
  });

  it('translates \\r\\n and lone \\r to \\n, also inside quotes', () => {
    expect(values(`key,type,encoding,value\r\nk,data,string,"x\ry"\r\n`)).toEqual(['x\ny']);
  });

  it('refuses an unterminated quote (Python keeps what it collected up to the end of the file)', () => {
    expect(() => values(`${H}k,data,string,"abc\nj,data,u8,1\n`)).toThrow(/line 2: unterminated quote: the quoted value that starts on line 2 never ends/);
    expect(parseNvsCsv(`${H}k,data,string,"abc\n`, { allowUnterminatedQuote: true }).map((r) => r.value)).toEqual(['abc\n']);
  });

  it('leaves missing trailing fields undefined and drops surplus fields (comma truncation)', () => {
    const [short, surplus] = parseNvsCsv(`${H}ns,namespace\nk,data,string,a,b\n`);
    expect(short).toEqual({ line: 2, key: 'ns', type: 'namespace' });
    expect(surplus!.value).toBe('a');
  });

  it('finds columns by name, in any order, ignoring extra columns', () => {
    expect(parseNvsCsv('value,x,key,encoding,type\n1,zz,k,u8,data')).toEqual([
      { line: 2, key: 'k', type: 'data', encoding: 'u8', value: '1' },
    ]);
  });

  it('a duplicated column missing from a short row is None, as DictReader fills it last', () => {
    expect(parseNvsCsv('key,type,encoding,value,value\nk,data,u8,5\n')[0]!.value).toBeUndefined();
  });

  it('keeps spaces verbatim and treats a spaces-only line as a row', () => {
    expect(values(`${H}k,data,string,  padded  \n`)).toEqual(['  padded  ']);
    expect(parseNvsCsv(`${H}  \n`)).toEqual([{ line: 2, key: '  ' }]);
  });

  it('numbers rows by the physical line where they start, counting comments and blank lines', () => {
    const text = `# c\n${H}\nns,namespace,,\nm,data,string,"1\n2"\n# c\nk,data,u8,1`;
    expect(parseNvsCsv(text).map((r) => [r.line, r.key])).toEqual([[4, 'ns'], [5, 'm'], [8, 'k']]);
  });

  it('yields no rows for an empty file or a header alone (no error)', () => {
    expect(parseNvsCsv('')).toEqual([]);
    expect(parseNvsCsv(H)).toEqual([]);
    expect(parseNvsCsv('foo,bar\n')).toEqual([]);
  });

  it.each([
    ['a space after a comma in the header', 'key, type,encoding,value\nk,data,u8,1\n', 2, 'type'],
    ['a UTF-8 BOM', '\ufeffkey,type,encoding,value\nk,data,u8,1\n', 2, 'key'],
    ['a blank first line (it becomes the header)', `\n${H}k,data,u8,1\n`, 2, 'key'],
    ['no header row', 'ns,namespace,,\nk,data,u8,1\n', 2, 'key'],
  ])('rejects %s at the first data row', (_what, text, line, column) => {
    expect(() => parseNvsCsv(text)).toThrow(NvsInputError);
    expect(() => parseNvsCsv(text)).toThrow(new RegExp(`line ${line}: CSV header has no \`${column}\``));
  });

  it('says so when the header starts with a byte order mark', () => {
    expect(() => parseNvsCsv('\ufeffkey,type,encoding,value\nk,data,u8,1\n')).toThrow(/byte order mark/);
  });

  it('refuses fields over the Python csv field size limit', () => {
    expect(CSV_FIELD_SIZE_LIMIT).toBe(131072);
    expect(values(`${H}k,data,hex2bin,${'a'.repeat(131072)}\n`)[0]!.length).toBe(131072);
    expect(() => parseNvsCsv(`${H}k,data,hex2bin,${'a'.repeat(131073)}\n`)).toThrow(/line 2: CSV field larger than field limit/);
  });

  it('reads the comments_quoting vector as the reference did (values from its items)', () => {
    const rows = parseNvsCsv(readFileSync(join(FIXTURES, 'comments_quoting.csv'), 'utf8'));
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'comments_quoting.json'), 'utf8')).items as { key: string; value: string }[];
    const byKey = new Map(rows.map((r) => [r.key, r.value]));
    for (const item of expected) {
      if (item.key === 'k_u8ws') expect(Number(byKey.get(item.key))).toBe(Number(item.value));
      else expect(byKey.get(item.key)).toBe(item.value);
    }
    expect(rows.map((r) => r.key)).not.toContain('#k_hidden');
  });
});
