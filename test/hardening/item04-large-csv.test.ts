// Issue 13, item 4: a very large CSV (150 000 rows) makes an image or fails cleanly — it never
// dies with "Maximum call stack size exceeded" (rows were spread into a push()).
import { describe, expect, it } from 'vitest';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { station, tempDir } from './helpers.ts';

const ROWS = 150_000;

describe('item 4: large inputs', () => {
  it('item 4: nvs generate and nvs encrypt take a 150 000-row CSV', async () => {
    const dir = tempDir('item4');
    let csv = 'key,type,encoding,value\n';
    for (let n = 0; n * 1000 < ROWS; n++) {
      csv += `ns${n},namespace,,\n`;
      for (let i = 0; i < 1000 && n * 1000 + i < ROWS; i++) csv += `k${i},data,u8,${i % 256}\n`;
    }
    writeFileSync(join(dir, 'big.csv'), csv);
    const size = '0x600000';
    const gen = await station(dir, ['nvs', 'generate', 'big.csv', 'big.bin', size]);
    expect(gen.err).not.toMatch(/call stack/i);
    expect(gen.code, gen.err).toBe(0);
    expect(statSync(join(dir, 'big.bin')).size).toBe(0x600000);

    writeFileSync(join(dir, 'keys.bin'), new Uint8Array(64).fill(7));
    const enc = await station(dir, ['nvs', 'encrypt', 'big.csv', 'big_enc.bin', size, '--inputkey', 'keys.bin']);
    expect(enc.err).not.toMatch(/call stack/i);
    expect(enc.code, enc.err).toBe(0);
    expect(existsSync(join(dir, 'big_enc.bin'))).toBe(true);
  }, 180_000);
});
