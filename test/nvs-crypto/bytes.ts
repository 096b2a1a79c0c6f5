// Byte-for-byte comparison that stays fast on whole images (deep equality on 16 KiB typed arrays is
// slow) and, on mismatch, names the first differing offset.
import { expect } from 'vitest';

export function firstDifference(a: Uint8Array, b: Uint8Array): string | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return `first difference at byte ${i} (0x${i.toString(16)}): ${a[i]} vs ${b[i]}`;
  }
  return a.length === b.length ? null : `lengths differ: ${a.length} vs ${b.length}`;
}

export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(firstDifference(actual, expected)).toBeNull();
}
