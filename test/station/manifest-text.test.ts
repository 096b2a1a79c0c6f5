// The pool manifest is written piece by piece; pieced together it must be exactly the 2-space JSON
// document (what `pool import` and any JSON tool read).
import { describe, expect, it } from 'vitest';
import { POOL_MANIFEST_FORMAT, poolManifestText, type PoolManifestEntry } from '../../shared/station/manifest.ts';

const entry = (i: number, extra: Partial<PoolManifestEntry> = {}): PoolManifestEntry => ({
  setupCode: `1112233${i}`,
  setupId: `AB${i}C`,
  salt: 'ab'.repeat(16),
  verifier: 'cd'.repeat(384),
  ...extra,
});

function asJson(head: { runId?: string; createdAt?: string; category?: number }, entries: PoolManifestEntry[]): string {
  const units = entries.map((e, index) => ({ index, name: e.name, setupCode: e.setupCode, setupId: e.setupId, payload: e.payload, salt: e.salt, verifier: e.verifier }));
  return `${JSON.stringify({ format: POOL_MANIFEST_FORMAT, version: 1, ...head, units }, null, 2)}\n`;
}

describe('pool manifest text, streamed', () => {
  const head = { runId: '20261204-1854-00aabbcc', createdAt: '2026-12-04T18:54:00.000Z', category: 5 };
  const cases: [string, { runId?: string; createdAt?: string; category?: number }, PoolManifestEntry[]][] = [
    ['no identities', head, []],
    ['one identity with name and payload', head, [entry(1, { name: 'Lamp-1', payload: 'X-HM://0081YCYEP1A2B' })]],
    ['several, some without name or payload', head, [entry(1, { name: 'Lamp-1' }), entry(2, { payload: 'X-HM://00000000001A2B' }), entry(3)]],
    ['a header without run id or date', { category: 7 }, [entry(4), entry(5)]],
  ];
  for (const [name, h, entries] of cases) {
    it(`${name}: equals the JSON document, and parses back`, () => {
      const pieces = [...poolManifestText(h, entries)];
      const text = pieces.join('');
      expect(text).toBe(asJson(h, entries));
      const doc = JSON.parse(text) as { units: { index: number; setupId: string }[] };
      expect(doc.units.map((u) => [u.index, u.setupId])).toEqual(entries.map((e, i) => [i, e.setupId]));
      // one piece per identity plus the opening and the closing
      expect(pieces).toHaveLength(entries.length + 2);
    });
  }

  it('reads its identities lazily (a generator is consumed as the file is written)', () => {
    let produced = 0;
    const source = function* () {
      for (let i = 0; i < 3; i++) {
        produced++;
        yield entry(i);
      }
    };
    const it = poolManifestText(head, source());
    it.next();
    it.next();
    expect(produced).toBe(1);
  });
});
