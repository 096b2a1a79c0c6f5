// Reads and verifies a plain ESP-IDF NVS partition image (spec nvs-format.md §14, modelled on
// ESP-IDF's nvs_partition_tool). Encrypted images must be decrypted first (see encryption.ts):
// page headers and bitmaps are plain, entries are not.
//
// Nothing here throws for damaged content: every CRC, state and span is checked and each finding
// becomes an NvsProblem naming the page (and slot) and what is wrong. Only input that is not an
// image at all (empty, or not a multiple of 4096 bytes) throws.
//
// Integer values are returned as `bigint` for every width (u8 … i64), so one type covers the full
// u64/i64 range without loss.
//
// This file is the reader's entry point (read, look up, format a problem). The work is split:
// reader-pages.ts checks pages and entries, reader-items.ts resolves namespaces, values and blobs,
// reader-common.ts holds what those two share, reader-types.ts the result types exported here.
import { NVS_PAGE_SIZE } from './format.ts';
import { Collector, type RawEntry } from './reader-common.ts';
import { buildItems, checkDuplicates, resolveNamespaces } from './reader-items.ts';
import { checkPageSet, readPage, type CrcStats } from './reader-pages.ts';
import type { NvsItem, NvsPageInfo, NvsReadResult } from './reader-types.ts';

export type {
  NvsBlobChunk,
  NvsIntegerType,
  NvsItem,
  NvsItemType,
  NvsNamespace,
  NvsPageInfo,
  NvsPageState,
  NvsProblem,
  NvsProblemKind,
  NvsReadResult,
  NvsWarning,
} from './reader-types.ts';

/** Parse and verify a plain NVS image. Throws only when `image` is not a whole number of pages. */
export function readNvsImage(image: Uint8Array): NvsReadResult {
  if (image.length === 0 || image.length % NVS_PAGE_SIZE !== 0) {
    throw new Error(`NVS image is ${image.length} bytes; it must be a non-empty multiple of ${NVS_PAGE_SIZE} bytes`);
  }
  const out = new Collector();
  const entries: RawEntry[] = [];
  const crcStats: CrcStats = { written: 0, bad: 0 };
  const pages: NvsPageInfo[] = [];
  for (let i = 0; i < image.length / NVS_PAGE_SIZE; i++) pages.push(readPage(image, i, out, entries, crcStats));

  checkPageSet(pages, out);
  if (crcStats.written > 0 && crcStats.bad === crcStats.written) {
    out.warn(undefined, undefined, 'every written entry fails its CRC: the image is probably encrypted (decrypt it with its keys first)');
  }

  const namespaces = resolveNamespaces(entries, out);
  const byIndex = new Map(namespaces.map((n) => [n.index, n.name] as const));
  const items = buildItems(entries, byIndex, out);
  checkDuplicates(items, out);
  for (const ns of namespaces) {
    if (!items.some((it) => it.nsIndex === ns.index)) out.warn(ns.page, ns.slot, `namespace '${ns.name}' (index ${ns.index}) has no items`);
  }
  out.problems.sort((a, b) => a.page - b.page || (a.slot ?? -1) - (b.slot ?? -1));
  return { pages, namespaces, items, problems: out.problems, warnings: out.warnings };
}

/** The first intact item with this namespace name and key, in flash order. */
export function findItem(result: NvsReadResult, namespace: string, key: string): NvsItem | undefined {
  return result.items.find((it) => it.intact && it.namespace === namespace && it.key === key);
}

/** Blob bytes of `namespace/key` (either blob format), or undefined if absent, damaged or not a blob. */
export function findBlob(result: NvsReadResult, namespace: string, key: string): Uint8Array | undefined {
  const it = findItem(result, namespace, key);
  return it?.type === 'blob' ? (it.value as Uint8Array) : undefined;
}

/** String value of `namespace/key`, or undefined if absent, damaged or not a string. */
export function findString(result: NvsReadResult, namespace: string, key: string): string | undefined {
  const it = findItem(result, namespace, key);
  return it?.type === 'string' ? (it.value as string) : undefined;
}

/** Integer value of `namespace/key`, or undefined if absent, damaged or not an integer. */
export function findInteger(result: NvsReadResult, namespace: string, key: string): bigint | undefined {
  const it = findItem(result, namespace, key);
  return typeof it?.value === 'bigint' ? it.value : undefined;
}

/** "page 2 slot 17: entry CRC mismatch …" */
export function formatProblem(p: { page?: number; slot?: number; message: string }): string {
  if (p.page === undefined) return p.message;
  return p.slot === undefined ? `page ${p.page}: ${p.message}` : `page ${p.page} slot ${p.slot}: ${p.message}`;
}
