// Issue 13, item 9: an NVS key is never lost or silently wrong: generate-key never overwrites a
// keys file, a keys file is exactly a keys partition (CRC-checked) or the 64 key bytes, and
// decrypting with the wrong key is detected (the decrypted pages fail their CRCs) and refused.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildKeysPartition, generateNvsKeys } from '../../shared/nvs/keys.ts';
import { factoryNvsGen, station, tempDir } from './helpers.ts';

describe('item 9: keys', () => {
  it('item 9: generate-key refuses an existing keys file; a 4097-byte keys file is refused; a wrong key is detected', async () => {
    const dir = tempDir('item9');
    const first = await station(dir, ['nvs', 'generate-key', '--keyfile', 'keys.bin']);
    expect(first.code, first.err).toBe(0);
    const key = readFileSync(join(dir, 'keys', 'keys.bin'));
    const second = await station(dir, ['nvs', 'generate-key', '--keyfile', 'keys.bin']);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/keys\.bin.*already exists/);
    expect(readFileSync(join(dir, 'keys', 'keys.bin'))).toEqual(key);

    const long = new Uint8Array(4097);
    long.set(buildKeysPartition(generateNvsKeys()));
    writeFileSync(join(dir, 'long.bin'), long);
    const g = await factoryNvsGen(dir, ['11122333', 'ES32', 'acc', '--encrypt', 'true', '--keyfile', 'long.bin']);
    expect(g.code).not.toBe(0);
    expect(g.err).toMatch(/long\.bin.*4097 bytes/);
    expect(existsSync(join(dir, 'acc.bin'))).toBe(false);

    writeFileSync(join(dir, 'data.csv'), 'key,type,encoding,value\napp,namespace,,\nk,data,u8,1\n');
    expect((await station(dir, ['nvs', 'encrypt', 'data.csv', 'enc.bin', '0x3000', '--inputkey', 'keys/keys.bin'])).code).toBe(0);
    writeFileSync(join(dir, 'other.bin'), buildKeysPartition(generateNvsKeys()));
    const wrong = await station(dir, ['nvs', 'decrypt', 'enc.bin', 'other.bin', 'plain.bin']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/wrong key/);
    expect(existsSync(join(dir, 'plain.bin'))).toBe(false);
    const right = await station(dir, ['nvs', 'decrypt', 'enc.bin', 'keys/keys.bin', 'plain.bin']);
    expect(right.code, right.err).toBe(0);
  });
});
