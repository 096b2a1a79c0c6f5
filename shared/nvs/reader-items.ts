// Second pass of the NVS reader: from the raw entries reader-pages.ts collected, resolve the
// namespace definitions, decode each item's value (integers, strings, version-1 blobs) and assemble
// version-2 blobs from their BLOB_IDX entry and BLOB_DATA chunks. Missing or stray chunks, unknown
// namespaces and keys written twice are reported to the Collector; the item is then marked not intact.
import { concatBytes } from '@noble/hashes/utils.js';
import { ItemType } from './format.ts';
import { Collector, TYPE_NAMES, utf8, utf8Strict, type RawEntry } from './reader-common.ts';
import type { NvsBlobChunk, NvsIntegerType, NvsItem, NvsNamespace } from './reader-types.ts';

/** BLOB_DATA entries by namespace index, key and chunk index. */
type ChunkMap = Map<string, RawEntry>;

const chunkKey = (ns: number, key: string, c: number) => `${ns}\u0000${key}\u0000${c}`;

/** Namespace definitions (U8 entries in namespace 0), first definition of an index wins. */
export function resolveNamespaces(entries: RawEntry[], out: Collector): NvsNamespace[] {
  const namespaces: NvsNamespace[] = [];
  const seen = new Map<number, NvsNamespace>();
  for (const e of entries) {
    if (e.nsIndex !== 0 || e.typeCode !== ItemType.U8) continue;
    const index = e.data[0]!;
    if (index === 0 || index === 0xff) {
      out.problem('namespace', e.page, e.slot, `namespace '${e.key}' has reserved index ${index}`);
      continue;
    }
    const prior = seen.get(index);
    if (prior) {
      out.problem('namespace', e.page, e.slot, `namespace index ${index} defined again as '${e.key}' (first '${prior.name}' at page ${prior.page} slot ${prior.slot})`);
      continue;
    }
    const ns = { name: e.key, index, page: e.page, slot: e.slot };
    seen.set(index, ns);
    namespaces.push(ns);
  }
  return namespaces;
}

/** Every item except namespace definitions and blob chunks (those end up inside their blob). */
export function buildItems(entries: RawEntry[], namespaceNames: Map<number, string>, out: Collector): NvsItem[] {
  const items: NvsItem[] = [];
  const chunks = collectChunks(entries, out);
  const usedChunks = new Set<RawEntry>();
  for (const e of entries) {
    if (e.nsIndex === 0 && e.typeCode === ItemType.U8) continue; // namespace definition
    if (e.typeCode === ItemType.BLOB_DATA) continue; // collected through its index
    items.push(itemFrom(e, namespaceOf(e, namespaceNames, out), chunks, usedChunks, out));
  }
  for (const c of chunks.values()) {
    if (!usedChunks.has(c)) {
      out.problem('blob', c.page, c.slot, `blob '${c.key}' chunk ${c.chunkIndex} belongs to no blob index`);
    }
  }
  return items;
}

function collectChunks(entries: RawEntry[], out: Collector): ChunkMap {
  const chunks: ChunkMap = new Map();
  for (const e of entries) {
    if (e.typeCode !== ItemType.BLOB_DATA) continue;
    const k = chunkKey(e.nsIndex, e.key, e.chunkIndex);
    const prior = chunks.get(k);
    if (prior) out.problem('duplicate-key', e.page, e.slot, `blob '${e.key}' chunk ${e.chunkIndex} written twice (also at page ${prior.page} slot ${prior.slot})`);
    else chunks.set(k, e);
  }
  return chunks;
}

/** The item's namespace name, or '' (reported) when its index has no definition. */
function namespaceOf(e: RawEntry, namespaceNames: Map<number, string>, out: Collector): string {
  const namespace = namespaceNames.get(e.nsIndex);
  if (namespace !== undefined) return namespace;
  out.problem('namespace', e.page, e.slot, e.nsIndex === 0
    ? `item '${e.key}' has namespace index 0 (written before any namespace)`
    : `item '${e.key}' refers to namespace index ${e.nsIndex}, which is not defined`);
  return '';
}

function itemFrom(e: RawEntry, namespace: string, chunks: ChunkMap, usedChunks: Set<RawEntry>, out: Collector): NvsItem {
  const base = { namespace, nsIndex: e.nsIndex, key: e.key, page: e.page, slot: e.slot, span: e.span };
  const typeName = TYPE_NAMES.get(e.typeCode)!;
  if (typeName === 'string') return { ...base, ...decodeString(e, out) };
  if (typeName === 'blob') return { ...base, type: 'blob', value: e.payload!, size: e.size!, blobFormat: 'v1', intact: e.intact };
  if (typeName === 'blob-index') return { ...base, ...assembleBlob(e, chunks, usedChunks, out) };
  return { ...base, type: typeName as NvsIntegerType, value: decodeInteger(typeName as NvsIntegerType, e.data), intact: e.intact };
}

/** A string payload: without its NUL; invalid UTF-8 or a missing NUL is warned about, not refused. */
function decodeString(e: RawEntry, out: Collector): Pick<NvsItem, 'type' | 'value' | 'size' | 'nulTerminated' | 'intact'> {
  const payload = e.payload!;
  const nulTerminated = payload.length > 0 && payload[payload.length - 1] === 0 && payload.length === e.size;
  const text = nulTerminated ? payload.subarray(0, payload.length - 1) : payload;
  let value: string;
  try {
    value = utf8Strict.decode(text);
  } catch {
    value = utf8.decode(text);
    out.warn(e.page, e.slot, `string '${e.key}' is not valid UTF-8`);
  }
  if (!nulTerminated && e.intact) out.warn(e.page, e.slot, `string '${e.key}' has no NUL terminator`);
  return { type: 'string', value, size: e.size!, nulTerminated, intact: e.intact };
}

function assembleBlob(
  idx: RawEntry,
  chunks: ChunkMap,
  used: Set<RawEntry>,
  out: Collector,
): Pick<NvsItem, 'type' | 'value' | 'size' | 'blobFormat' | 'chunks' | 'chunkStart' | 'intact'> {
  const view = new DataView(idx.data.buffer, idx.data.byteOffset, idx.data.byteLength);
  const size = view.getUint32(0, true);
  const count = idx.data[4]!;
  const start = idx.data[5]!;
  let intact = idx.intact;
  const parts: Uint8Array[] = [];
  const found: NvsBlobChunk[] = [];
  for (let c = start; c < start + count; c++) {
    const chunk = chunks.get(chunkKey(idx.nsIndex, idx.key, c));
    if (!chunk) {
      out.problem('blob', idx.page, idx.slot, `blob '${idx.key}': chunk ${c} of ${start}..${start + count - 1} is missing`);
      intact = false;
      continue;
    }
    used.add(chunk);
    if (!chunk.intact) intact = false;
    parts.push(chunk.payload!);
    found.push({ chunkIndex: c, page: chunk.page, slot: chunk.slot, size: chunk.size!, span: chunk.span });
  }
  const value = concatBytes(...parts);
  if (intact && value.length !== size) {
    out.problem('blob', idx.page, idx.slot, `blob '${idx.key}': index says ${size} bytes, its chunks hold ${value.length}`);
    intact = false;
  }
  return { type: 'blob', value, size, blobFormat: 'v2', chunks: found, chunkStart: start, intact };
}

function decodeInteger(type: NvsIntegerType, data: Uint8Array): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (type) {
    case 'u8': return BigInt(view.getUint8(0));
    case 'i8': return BigInt(view.getInt8(0));
    case 'u16': return BigInt(view.getUint16(0, true));
    case 'i16': return BigInt(view.getInt16(0, true));
    case 'u32': return BigInt(view.getUint32(0, true));
    case 'i32': return BigInt(view.getInt32(0, true));
    case 'u64': return view.getBigUint64(0, true);
    case 'i64': return view.getBigInt64(0, true);
  }
}

/** Reports a key written more than once in the same namespace. */
export function checkDuplicates(items: NvsItem[], out: Collector): void {
  const seen = new Map<string, NvsItem>();
  for (const it of items) {
    const k = `${it.nsIndex}\u0000${it.key}`;
    const prior = seen.get(k);
    if (prior) {
      out.problem('duplicate-key', it.page, it.slot, `key '${it.key}' in namespace '${it.namespace}' is written twice (also at page ${prior.page} slot ${prior.slot})`);
    } else {
      seen.set(k, it);
    }
  }
}
