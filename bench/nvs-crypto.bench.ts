// NVS encryption and reading speed: the station's per-unit HomeKit image (encrypt, decrypt, read
// back) and a full 1 MiB partition.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decryptNvsImage, encryptNvsImage } from '../shared/nvs/encryption.ts';
import { parseKeysPartition } from '../shared/nvs/keys.ts';
import { readNvsImage } from '../shared/nvs/reader.ts';
import { generateNvsImage } from '../shared/nvs/writer.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../test/fixtures/nvs/${name}`, import.meta.url))));

function time(label: string, iterations: number, fn: () => void): void {
  fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${label}: ${(ms / iterations).toFixed(3)} ms (${iterations} runs)`);
}

export async function bench(): Promise<void> {
  const keys = parseKeysPartition(fixture('enc_basic.keys.bin'));
  const hap = fixture('hap_factory.v2.bin');
  const hapEnc = encryptNvsImage(hap, keys);
  time('encrypt hap_factory (0x6000, 21 slots)', 2000, () => encryptNvsImage(hap, keys));
  time('decrypt hap_factory', 2000, () => decryptNvsImage(hapEnc, keys));
  time('read hap_factory', 2000, () => readNvsImage(hap));

  const rows = ['key,type,encoding,value', 'big,namespace,,'];
  for (let i = 0; i < 3000; i++) rows.push(`k${i},data,u32,${i}`, `s${i},data,string,value number ${i}`);
  rows.push(`blob,data,hex2bin,${'ab'.repeat(60_000)}`);
  const big = generateNvsImage(rows.join('\n'), { size: 0x100000, version: 2 });
  const bigEnc = encryptNvsImage(big, keys);
  time('encrypt 1 MiB partition (6000 items + 60 kB blob)', 20, () => encryptNvsImage(big, keys));
  time('decrypt 1 MiB partition', 20, () => decryptNvsImage(bigEnc, keys));
  time('read 1 MiB partition', 20, () => readNvsImage(big));
}
