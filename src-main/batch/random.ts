// CSPRNG bytes handed out from a pre-filled pool: one randomFillSync per 64 KiB instead of one
// getRandomValues call per code, ID and salt (those small calls cost ~30 µs each in Node).
import { randomFillSync } from 'node:crypto';
import type { RandomBytes } from '../../shared/homekit/setup-code.ts';

export function pooledRandomBytes(poolSize = 65536): RandomBytes {
  let pool = new Uint8Array(0);
  let at = 0;
  return (length) => {
    if (at + length > pool.length) {
      pool = randomFillSync(new Uint8Array(Math.max(poolSize, length)));
      at = 0;
    }
    const out = pool.slice(at, at + length);
    pool.fill(0, at, at + length); // handed-out bytes do not linger in the pool
    at += length;
    return out;
  };
}
