// Damaged images: each fault must be reported with its page, slot and what is wrong, and the
// damaged value must not be handed out by findItem. Layout of enc_basic.v2.bin (from its NAME.json):
// 0:0 namespace "secure", 0:1 u8k, 0:2 i32k, 0:3 u32k, 0:4 str (span 2), 0:6 blob chunk 0 (span 48),
// 0:54 blob index, 0:55 b64 chunk 0 (span 2), 0:57 b64 index; pages 1..3 erased.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryCrc, pageHeaderCrc } from '../../shared/nvs/format.ts';
import { findItem, formatProblem, readNvsImage } from '../../shared/nvs/reader.ts';

const DIR = join(import.meta.dirname, '../fixtures/nvs');
const load = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));
const slotAt = (page: number, slot: number) => page * 4096 + 64 + slot * 32;

/** Set the two bitmap bits of a slot. */
function setEntryState(image: Uint8Array, page: number, slot: number, state: number): void {
  const byte = page * 4096 + 32 + (slot >> 2);
  const shift = (slot & 3) * 2;
  image[byte] = (image[byte]! & ~(3 << shift)) | (state << shift);
}

/** Re-sign an entry after editing it, so only the intended inconsistency remains. */
function fixEntryCrc(image: Uint8Array, page: number, slot: number): void {
  const at = slotAt(page, slot);
  new DataView(image.buffer).setUint32(at + 4, entryCrc(image.subarray(at, at + 32)), true);
}

const located = (image: Uint8Array) => readNvsImage(image).problems.map((p) => ({ page: p.page, slot: p.slot, kind: p.kind }));

describe('reader reports corruption precisely', () => {
  it('page header byte flipped → header CRC problem on that page, items still read', () => {
    const img = load('enc_basic.v2.bin');
    img[12] ^= 0x01; // an unused header byte, covered by the header CRC
    const r = readNvsImage(img);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ page: 0, kind: 'header-crc' });
    expect(r.problems[0]!.slot).toBeUndefined();
    expect(formatProblem(r.problems[0]!)).toMatch(/^page 0: page header CRC mismatch: stored 0x[0-9a-f]{8}, bytes 4\.\.27 give 0x[0-9a-f]{8}$/);
    expect(r.items).toHaveLength(6);
  });

  it('page state word damaged → invalid page state', () => {
    const img = load('enc_basic.v2.bin');
    img[1] = 0x12;
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: undefined, kind: 'page-state' }]);
    expect(r.problems[0]!.message).toContain('0xffff12fe');
  });

  it('entry byte flipped → entry CRC problem at that slot, the item is dropped, neighbours survive', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 1) + 9] ^= 0x20; // key "u8k" → "uXk"
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: 1, kind: 'entry-crc' }]);
    expect(formatProblem(r.problems[0]!)).toMatch(/^page 0 slot 1: entry CRC mismatch/);
    expect(r.items.map((i) => i.key)).toEqual(['i32k', 'u32k', 'str', 'blob', 'b64']);
  });

  it('damaged string header with a self-consistent span skips its payload (no follow-on noise)', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 4) + 10] ^= 0x01; // inside the key of "str"
    expect(located(img)).toEqual([{ page: 0, slot: 4, kind: 'entry-crc' }]);
  });

  it('blob chunk payload byte flipped → payload CRC problem at the chunk header; blob not handed out', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 20) + 5] ^= 0xff; // payload slot of chunk 0 (header at 0:6)
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: 6, kind: 'payload-crc' }]);
    expect(r.problems[0]!.message).toMatch(/payload CRC mismatch: stored 0x[0-9a-f]{8}, 1500 payload bytes give/);
    expect(r.items.find((i) => i.key === 'blob')!.intact).toBe(false);
    expect(findItem(r, 'secure', 'blob')).toBeUndefined();
    expect(findItem(r, 'secure', 'b64')).toBeDefined();
  });

  it('string payload byte flipped → payload CRC problem at the string header', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 5)] ^= 0x01;
    expect(located(img)).toEqual([{ page: 0, slot: 4, kind: 'payload-crc' }]);
    expect(findItem(readNvsImage(img), 'secure', 'str')).toBeUndefined();
  });

  it('bitmap says a written header slot is empty → that slot is named', () => {
    const img = load('enc_basic.v2.bin');
    setEntryState(img, 0, 4, 0b11);
    const r = readNvsImage(img);
    expect(r.problems[0]).toMatchObject({ page: 0, slot: 4, kind: 'slot-not-erased' });
    expect(r.problems[0]!.message).toBe('slot is marked empty in the bitmap but holds data');
    expect(findItem(r, 'secure', 'str')).toBeUndefined();
  });

  it('bitmap marks a payload slot erased → payload-state problem on that slot', () => {
    const img = load('enc_basic.v2.bin');
    setEntryState(img, 0, 5, 0b00);
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: 5, kind: 'payload-state' }]);
    expect(r.problems[0]!.message).toBe('payload slot of the item at slot 4 is erased in the bitmap (expected written)');
    expect(findItem(r, 'secure', 'str')).toBeUndefined();
  });

  it('bitmap byte with the invalid state 01 → bitmap-state problem on that slot', () => {
    const img = load('enc_basic.v2.bin');
    img[32] = 0xa6; // slot 1 → 01
    expect(located(img)).toEqual([{ page: 0, slot: 1, kind: 'bitmap-state' }]);
  });

  it('a missing chunk of a multi-page blob → problem at the blob index naming the chunk', () => {
    const img = load('blob_multipage_v2.v2.bin');
    const r0 = readNvsImage(img);
    const blob = r0.items.find((i) => i.blobFormat === 'v2')!;
    const chunk1 = blob.chunks!.find((c) => c.chunkIndex === 1)!;
    for (let s = chunk1.slot; s < chunk1.slot + chunk1.span; s++) setEntryState(img, chunk1.page, s, 0b00); // erased
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: blob.page, slot: blob.slot, kind: 'blob' }]);
    expect(r.problems[0]!.message).toBe(`blob '${blob.key}': chunk 1 of 0..2 is missing`);
    expect(findItem(r, blob.namespace, blob.key)).toBeUndefined();
  });

  it('span inconsistent with the payload size (CRC re-signed) → span problem', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 4) + 2] = 5;
    fixEntryCrc(img, 0, 4);
    const r = readNvsImage(img);
    expect(r.problems[0]).toMatchObject({ page: 0, slot: 4, kind: 'span', message: 'span 5 does not match payload size 12 (needs 2 slots)' });
  });

  it('span running past the page end → span problem', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 55) + 2] = 100; // b64 chunk at 0:55
    fixEntryCrc(img, 0, 55);
    const r = readNvsImage(img);
    expect(r.problems.map((p) => p.message)).toContain('span 100 runs past the end of the page (only 71 slots from slot 55)');
  });

  it('item pointing at an undefined namespace index → namespace problem', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(0, 2)] = 7;
    fixEntryCrc(img, 0, 2);
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: 2, kind: 'namespace' }]);
    expect(r.problems[0]!.message).toBe("item 'i32k' refers to namespace index 7, which is not defined");
  });

  it('the same key written twice → duplicate-key problem at the second copy', () => {
    const img = load('enc_basic.v2.bin');
    img.copyWithin(slotAt(0, 58), slotAt(0, 1), slotAt(0, 2)); // u8k again in the next free slot
    setEntryState(img, 0, 58, 0b10);
    const r = readNvsImage(img);
    expect(located(img)).toEqual([{ page: 0, slot: 58, kind: 'duplicate-key' }]);
    expect(r.problems[0]!.message).toBe("key 'u8k' in namespace 'secure' is written twice (also at page 0 slot 1)");
  });

  it('data in an erased (EMPTY) page → page-not-erased naming the slot', () => {
    const img = load('enc_basic.v2.bin');
    img[slotAt(2, 3) + 7] = 0x00;
    expect(located(img)).toEqual([{ page: 2, slot: 3, kind: 'page-not-erased' }]);
  });

  it('two pages with one sequence number → duplicate-seq', () => {
    const img = load('sizes.0x6000.v2.homekit.bin'); // every page has a header here
    const view = new DataView(img.buffer);
    view.setUint32(4096 + 4, 0, true);
    view.setUint32(4096 + 28, pageHeaderCrc(img.subarray(4096, 4096 + 32)), true);
    expect(located(img)).toEqual([{ page: 1, slot: undefined, kind: 'duplicate-seq' }]);
  });

  it('an encrypted image read without its keys → every entry fails, with a hint', () => {
    const r = readNvsImage(load('enc_basic.v2.enc.bin'));
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems.every((p) => p.kind === 'entry-crc' || p.kind === 'slot-after-empty' || p.kind === 'namespace')).toBe(true);
    expect(r.warnings.map((w) => w.message)).toContain(
      'every written entry fails its CRC: the image is probably encrypted (decrypt it with its keys first)',
    );
  });

  it('an all-0xFF image is simply empty', () => {
    const r = readNvsImage(new Uint8Array(3 * 4096).fill(0xff));
    expect(r.problems).toEqual([]);
    expect(r.items).toEqual([]);
    expect(r.pages.map((p) => p.state)).toEqual(['EMPTY', 'EMPTY', 'EMPTY']);
  });
});
