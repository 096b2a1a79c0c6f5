// Issue 13, item 5: the generator never writes an image its own inspector rejects. Inputs the
// reference turns into broken or surprising images are refused, naming file, line and key.
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { station, tempDir } from './helpers.ts';

const HEADER = 'key,type,encoding,value\n';
const CASES: [string, string, RegExp][] = [
  ['duplicate key', `${HEADER}app,namespace,,\nk,data,u8,1\nk,data,u8,2\n`, /line 4, key `k`: .*written twice/],
  ['empty key', `${HEADER}app,namespace,,\n,data,u8,1\n`, /line 3.*: .*empty key|key is empty/],
  ['re-declared namespace', `${HEADER}app,namespace,,\nk,data,u8,1\nother,namespace,,\napp,namespace,,\nj,data,u8,2\n`, /line 5, key `app`: .*namespace .*(again|twice)/],
  ['data row before any namespace', `${HEADER}k,data,u8,1\napp,namespace,,\n`, /line 2, key `k`: .*before any namespace/],
  ['unterminated quote', `${HEADER}app,namespace,,\ns,data,string,"open\nj,data,u8,1\n`, /line 3.*unterminated quote/],
];

describe('item 5: images the inspector would reject are refused', () => {
  it('item 5: duplicate key, empty key, re-declared namespace, row before a namespace, unterminated quote', async () => {
    const dir = tempDir('item5');
    for (const [what, csv, message] of CASES) {
      writeFileSync(join(dir, 'in.csv'), csv);
      const r = await station(dir, ['nvs', 'generate', 'in.csv', 'out.bin', '0x3000']);
      expect(r.code, what).not.toBe(0);
      expect(r.err, what).toMatch(/in\.csv/);
      expect(r.err, what).toMatch(message);
      expect(existsSync(join(dir, 'out.bin')), what).toBe(false);
    }
  });
});
