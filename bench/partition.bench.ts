// Partition table speed: the HomeKit table both ways, and a full 94-entry table.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePartitionBinary, parsePartitionCsv, partitionTableToBinary, partitionTableToCsv } from '../shared/partition/index.ts';

function time(label: string, iterations: number, fn: () => void): void {
  fn(); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const us = Number(process.hrtime.bigint() - start) / 1e3;
  console.log(`${label}: ${(us / iterations).toFixed(1)} µs/table (${iterations} runs)`);
}

export async function bench(): Promise<void> {
  const hap = readFileSync(fileURLToPath(new URL('../test/fixtures/partition/partitions_hap.csv', import.meta.url)), 'utf8');
  const hapBin = partitionTableToBinary(parsePartitionCsv(hap));
  time('partitions_hap.csv → binary', 5000, () => partitionTableToBinary(parsePartitionCsv(hap)));
  time('partitions_hap.bin → CSV', 5000, () => partitionTableToCsv(parsePartitionBinary(hapBin)));
  const full = Array.from({ length: 94 }, (_, i) => `p${i},data,nvs,,0x3000`).join('\n');
  time('94 entries CSV → binary', 1000, () => partitionTableToBinary(parsePartitionCsv(full)));
}
