// Every plain image in the NVS golden vectors must read back exactly as ESP-IDF's own nvs_parser
// decoded it (the `items`, `pages` and `namespaces` recorded in NAME.json — an independent reference).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBlob, findItem, readNvsImage, type NvsItem, type NvsReadResult } from '../../shared/nvs/reader.ts';

const DIR = join(import.meta.dirname, '../fixtures/nvs');

interface VectorItem {
  namespace: string;
  ns_index: number;
  key: string;
  type: string;
  value?: string;
  base64?: string;
  size?: number;
  span?: number;
  nul_terminated?: boolean;
  at?: string;
  index_at?: string;
  chunk_count?: number;
  chunk_start?: number;
  chunks?: { chunk_index: number; at: string; size: number; span: number }[];
  data_crc_ok?: boolean;
}
interface VectorPage {
  index: number;
  state: string;
  seq?: number;
  version_byte?: string;
  header_crc_ok?: boolean;
  written_entries?: number;
  bitmap_hex?: string;
}
interface Expected {
  file: string;
  items: VectorItem[];
  pages?: VectorPage[];
  namespaces?: { name: string; index: number; at: string }[];
}

/** Each plain image of the vectors with the content nvs_parser found in it. */
function expectedImages(): Expected[] {
  const out: Expected[] = [];
  for (const name of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(DIR, name), 'utf8'));
    if (!Array.isArray(doc.items)) continue;
    if (doc.shipped_image) {
      out.push({ file: doc.shipped_image.file, items: doc.items, pages: doc.shipped_image.pages, namespaces: doc.shipped_image.namespaces });
    }
    for (const run of doc.runs) {
      for (const o of run.outputs ?? []) {
        if (!o.pages || !existsSync(join(DIR, o.file))) continue; // only decoded plain images
        out.push({ file: o.file, items: Array.isArray(o.items) ? o.items : doc.items, pages: o.pages, namespaces: o.namespaces });
      }
    }
  }
  return out;
}

const at = (page: number, slot: number) => `${page}:${slot}`;

/** Our item in the vector's vocabulary, with only the fields the vector item has. */
function asVectorItem(it: NvsItem, want: VectorItem): Record<string, unknown> {
  const v: Record<string, unknown> = { namespace: it.namespace, ns_index: it.nsIndex, key: it.key };
  if (it.type === 'blob') {
    const bytes = it.value as Uint8Array;
    v.base64 = globalThis.Buffer.from(bytes).toString('base64');
    v.size = it.size;
    if (it.blobFormat === 'v1') {
      v.type = 'blob (v1 single entry)';
      v.span = it.span;
      v.at = at(it.page, it.slot);
    } else {
      v.type = 'blob (v2 index + chunks)';
      v.index_at = at(it.page, it.slot);
      v.chunk_count = it.chunks!.length;
      v.chunk_start = it.chunkStart;
      v.chunks = it.chunks!.map((c) => ({ chunk_index: c.chunkIndex, at: at(c.page, c.slot), size: c.size, span: c.span }));
    }
  } else if (it.type === 'string') {
    Object.assign(v, { type: 'string', size: it.size, span: it.span, nul_terminated: it.nulTerminated, value: it.value, at: at(it.page, it.slot) });
  } else {
    Object.assign(v, { type: it.type, value: (it.value as bigint).toString(), at: at(it.page, it.slot) });
  }
  if ('data_crc_ok' in want) v.data_crc_ok = it.intact;
  return v;
}

const cases = expectedImages();

describe('reader on the golden vectors', () => {
  it('finds the vector images', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  for (const c of cases) {
    describe(c.file, () => {
      const image = new Uint8Array(readFileSync(join(DIR, c.file)));
      const result: NvsReadResult = readNvsImage(image);

      it('has the items nvs_parser decoded', () => {
        expect(result.items.map((it, i) => asVectorItem(it, c.items[i] ?? ({} as VectorItem)))).toEqual(c.items);
      });

      it('has the pages and namespaces nvs_parser decoded', () => {
        const pages = result.pages.map((p) =>
          p.state === 'EMPTY'
            ? { index: p.index, state: 'UNINITIALIZED (all 0xFF)' }
            : {
                index: p.index,
                state: p.state,
                seq: p.seq,
                version_byte: `0x${p.versionByte!.toString(16)}`,
                header_crc_ok: p.headerCrcOk,
                written_entries: p.writtenEntries,
                bitmap_hex: p.bitmapHex,
              },
        );
        expect(pages).toEqual(c.pages!.map(({ index, state, seq, version_byte, header_crc_ok, written_entries, bitmap_hex }) =>
          state.startsWith('UNINITIALIZED') ? { index, state } : { index, state, seq, version_byte, header_crc_ok, written_entries, bitmap_hex }));
        expect(result.namespaces.map((n) => ({ name: n.name, index: n.index, at: at(n.page, n.slot) }))).toEqual(c.namespaces);
      });

      // The HomeKit copy writes a character count as the size of a non-ASCII string, so the payload
      // CRC cannot match (nvs_parser: data_crc_ok false). Everything else is clean.
      const damaged = c.items.filter((it) => it.data_crc_ok === false);
      it(damaged.length ? 'reports exactly the item nvs_parser flags' : 'reports no problems', () => {
        expect(result.problems.map((p) => ({ at: at(p.page, p.slot!), kind: p.kind }))).toEqual(
          damaged.map((it) => ({ at: it.at, kind: 'payload-crc' })),
        );
      });
    });
  }
});

describe('lookups for the station', () => {
  it('reads hap_setup back from the HomeKit factory image', () => {
    const r = readNvsImage(new Uint8Array(readFileSync(join(DIR, 'hap_factory.v2.bin'))));
    const doc = JSON.parse(readFileSync(join(DIR, 'hap_factory.json'), 'utf8'));
    const want = (key: string) => new Uint8Array(globalThis.Buffer.from(doc.items.find((i: VectorItem) => i.key === key).base64, 'base64'));
    expect(findBlob(r, 'hap_setup', 'setup_salt')).toEqual(want('setup_salt'));
    expect(findBlob(r, 'hap_setup', 'setup_verifier')).toEqual(want('setup_verifier'));
    expect(new TextDecoder().decode(findBlob(r, 'hap_setup', 'setup_id'))).toBe(new TextDecoder().decode(want('setup_id')));
    expect(findItem(r, 'hap_setup', 'nope')).toBeUndefined();
    expect(findItem(r, 'other', 'setup_salt')).toBeUndefined();
  });

  it('decodes integer limits as bigint', () => {
    const r = readNvsImage(new Uint8Array(readFileSync(join(DIR, 'primitives.v2.bin'))));
    const values = r.items.map((it) => it.value);
    // Hand-derived two's-complement limits that primitives.csv uses.
    for (const limit of [255n, -128n, 127n, 65535n, -32768n, 4294967295n, -2147483648n, 18446744073709551615n, -9223372036854775808n, 9223372036854775807n]) {
      expect(values).toContainEqual(limit);
    }
  });

  it('rejects input that is not a whole number of pages', () => {
    expect(() => readNvsImage(new Uint8Array(0))).toThrow(/multiple of 4096/);
    expect(() => readNvsImage(new Uint8Array(4095))).toThrow(/4095 bytes/);
  });
});
