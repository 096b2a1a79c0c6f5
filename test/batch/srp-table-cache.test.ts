// The SRP fixed-base table kept on disk between batch runs: stored on first use, loaded (and
// checked) after that, rebuilt when the file is damaged, never fatal when the folder is unusable.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { adoptSerializedSrpTable, loadSrpTable, srpTableCacheFile } from '../../src-main/batch/srp-table-cache.ts';
import { SRP_G, SRP_N, srpTableSnapshot } from '../../shared/homekit/srp.ts';
import { tempDir } from './helpers.ts';

const TABLE_ENTRIES = 64 * 256;

/** g^(d·256^i) mod N by plain square-and-multiply: independent of the table code. */
function expectedEntry(row: number, digit: number): bigint {
  let e = BigInt(digit) * 256n ** BigInt(row);
  let r = 1n;
  for (let b = SRP_G; e > 0n; e >>= 1n, b = (b * b) % SRP_N) if (e & 1n) r = (r * b) % SRP_N;
  return r;
}

function tableOf(bytes: Uint8Array): bigint[] {
  return deserialize(bytes) as bigint[];
}

describe('SRP table cache', () => {
  it('builds and stores the table on first use, then loads the same bytes from the file', () => {
    const dir = join(tempDir('srp-cache'), 'nested', 'cache');
    const first = loadSrpTable(dir);
    expect(first.origin).toBe('built');
    expect(first.stored).toBe(true);
    const file = srpTableCacheFile(dir);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(first.bytes.length + 48);
    expect(first.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);

    const second = loadSrpTable(dir);
    expect(second.origin).toBe('cache');
    expect(second.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);

    const table = tableOf(second.bytes);
    expect(table.length).toBe(TABLE_ENTRIES);
    for (const [row, digit] of [[0, 1], [0, 255], [9, 77], [63, 255]] as const) {
      expect(table[row * 256 + digit]).toBe(expectedEntry(row, digit));
    }
    expect(table).toEqual(srpTableSnapshot());
  });

  it.each([
    ['one flipped payload byte', (b: Buffer) => void (b[b.length - 100] ^= 0x01)],
    ['a wrong magic', (b: Buffer) => void (b[0] ^= 0xff)],
    ['a cut-off file', (b: Buffer) => b.subarray(0, b.length - 5000)],
    ['an empty file', () => Buffer.alloc(0)],
  ])('a file with %s is rebuilt and replaced', (_what, damage) => {
    const dir = tempDir('srp-cache-bad');
    loadSrpTable(dir);
    const file = srpTableCacheFile(dir);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    writeFileSync(file, damage(bad) ?? bad);
    const again = loadSrpTable(dir);
    expect(again.origin).toBe('built');
    expect(again.stored).toBe(true);
    expect(readFileSync(file).equals(good)).toBe(true);
    expect(loadSrpTable(dir).origin).toBe('cache');
  });

  it('a file whose checksum matches but whose table is wrong is refused as well', () => {
    const dir = tempDir('srp-cache-forged');
    loadSrpTable(dir);
    const file = srpTableCacheFile(dir);
    const header = readFileSync(file).subarray(0, 16);
    const forged = [...srpTableSnapshot()];
    forged[20 * 256 + 255] = forged[20 * 256 + 255]! + 1n;
    const payload = serialize(forged);
    writeFileSync(file, Buffer.concat([header, createHash('sha256').update(payload).digest(), payload]));
    expect(loadSrpTable(dir).origin).toBe('built');
    expect(() => adoptSerializedSrpTable(new Uint8Array(payload))).toThrow(/not the SRP fixed-base table/);
  });

  it('a folder that cannot be written only costs the build; no folder means no file', () => {
    const blocker = join(tempDir('srp-cache-blocked'), 'a-file');
    writeFileSync(blocker, 'not a folder');
    const r = loadSrpTable(join(blocker, 'cache'));
    expect(r.origin).toBe('built');
    expect(r.stored).toBe(false);
    expect(tableOf(r.bytes).length).toBe(TABLE_ENTRIES);

    const none = loadSrpTable(undefined);
    expect(none.origin).toBe('built');
    expect(none.stored).toBe(false);
  });

  it("storing removes other V8 versions' tables and leaves no temp file", () => {
    const dir = tempDir('srp-cache-versions');
    writeFileSync(join(dir, 'srp-table-1.2.3.bin'), 'old');
    writeFileSync(join(dir, 'unrelated.bin'), 'keep');
    loadSrpTable(dir);
    expect(readdirSync(dir).sort()).toEqual([srpTableCacheFile(dir).slice(dir.length + 1), 'unrelated.bin'].sort());
  });

  it('refuses bytes that are not a serialized table', () => {
    expect(() => adoptSerializedSrpTable(new Uint8Array([1, 2, 3]))).toThrow(/not a serialized SRP table/);
    expect(() => adoptSerializedSrpTable(new Uint8Array(serialize({ a: 1 })))).toThrow(/not a serialized SRP table/);
    expect(() => adoptSerializedSrpTable(new Uint8Array(serialize([1n, 5n])))).toThrow(/not the SRP fixed-base table/);
  });
});
