// NVS image generation speed: a HomeKit factory CSV (the station's per-unit case) and a large
// mixed CSV filling a 1 MiB partition.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateNvsImage } from '../shared/nvs/writer.ts';

function time(label: string, iterations: number, fn: () => void): void {
  fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${label}: ${(ms / iterations).toFixed(3)} ms/image (${iterations} runs)`);
}

export async function bench(): Promise<void> {
  const hap = readFileSync(fileURLToPath(new URL('../test/fixtures/nvs/hap_factory.csv', import.meta.url)), 'utf8');
  time('hap_factory.csv, 0x6000, v2', 2000, () => generateNvsImage(hap, { size: 0x6000, version: 2 }));

  const rows = ['key,type,encoding,value', 'big,namespace,,'];
  for (let i = 0; i < 3000; i++) rows.push(`k${i},data,u32,${i}`, `s${i},data,string,value number ${i}`);
  rows.push(`blob,data,hex2bin,${'ab'.repeat(60_000)}`);
  const big = rows.join('\n');
  time('6000 items + 60 kB blob, 0x100000, v2', 20, () => generateNvsImage(big, { size: 0x100000, version: 2 }));
}
