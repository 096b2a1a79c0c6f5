import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  buildSetupPayload,
  ESPRESSIF_DEFAULT_FLAGS,
  parseSetupPayload,
  setupPayloadHeaderValue,
  type SetupPayloadInput,
} from '../../shared/homekit/payload.ts';
import { SetupDataError } from '../../shared/homekit/setup-code.ts';

interface PayloadVector {
  source: string;
  category: number;
  setup_code: string | null;
  setup_id: string | null;
  flags: { paired: boolean; ip: boolean; ble: boolean; wac: boolean };
  product_data: string | null;
  product_data_used_hex?: string | null;
  header_value_hex: string;
  header: string;
  payload: string;
}
const vectors = (JSON.parse(readFileSync('test/fixtures/homekit/payloads.json', 'utf8')) as { vectors: PayloadVector[] }).vectors;

function inputOf(v: PayloadVector): SetupPayloadInput {
  return {
    category: v.category,
    flags: v.flags,
    ...(v.setup_code !== null ? { setupCode: v.setup_code } : {}),
    ...(v.setup_id !== null ? { setupId: v.setup_id } : {}),
    ...(v.product_data !== null ? { productData: v.product_data } : {}),
  };
}

describe('setup payload', () => {
  it('has vectors from Espressif and the ADK', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(27);
  });

  it.each(vectors.map((v) => [v.payload, v] as const))('%s', (_, v) => {
    const input = inputOf(v);
    expect(`0x${setupPayloadHeaderValue(input).toString(16)}`).toBe(v.header_value_hex);
    const payload = buildSetupPayload(input);
    expect(payload).toBe(v.payload);
    expect(payload.slice(7, 16)).toBe(v.header);

    const parsed = parseSetupPayload(payload);
    expect(parsed.category).toBe(v.category);
    expect(parsed.flags).toEqual(v.flags);
    expect(parsed.setupCode).toBe(v.setup_code ?? '00000000');
    expect(parsed.setupId).toBe(v.setup_id ?? '0000');
    expect(parsed.productDataLow32).toBe(v.product_data_used_hex ?? undefined);
    expect(parsed.version).toBe(0);
  });

  it("defaults to Espressif's IP + WAC flags", () => {
    expect(buildSetupPayload({ category: 7, setupCode: '51808582', setupId: '7OSX', flags: ESPRESSIF_DEFAULT_FLAGS })).toBe('X-HM://007JNU5AE7OSX');
  });

  it('pads the header to 9 characters where the firmware variant would emit 10 (category 36 + WAC)', () => {
    expect(buildSetupPayload({ category: 36, setupCode: '99999997', setupId: 'C36X', flags: { ip: true, wac: true } })).toBe('X-HM://0106ENUNXC36X');
  });

  it('accepts the hyphenated code spelling and keeps leading zeros', () => {
    const p = buildSetupPayload({ category: 8, setupCode: '012-34-567', setupId: '0A1B', flags: { ip: true } });
    expect(p).toBe('X-HM://0080L06MF0A1B');
    expect(parseSetupPayload(p).setupCode).toBe('01234567');
  });

  it('rejects bad categories, codes, IDs and product data', () => {
    const ok: SetupPayloadInput = { category: 7, setupCode: '51808582', setupId: '7OSX', flags: { ip: true } };
    for (const bad of [
      { ...ok, category: 0 },
      { ...ok, category: 256 },
      { ...ok, category: 1.5 },
      { ...ok, setupCode: '00000000' },
      { ...ok, setupCode: '5180858' },
      { ...ok, setupId: '7osx' },
      { ...ok, setupId: '7OSXX' },
      { ...ok, productData: '11223344556677' },
      { ...ok, productData: '112233445566778g' },
    ]) {
      expect(() => buildSetupPayload(bad), JSON.stringify(bad)).toThrow(SetupDataError);
    }
  });

  it('rejects text that is not a payload', () => {
    for (const bad of ['', 'X-HM://007JNU5AE7OS', 'x-hm://007JNU5AE7OSX', 'X-HM://007jnu5ae7osx', 'X-HM://007JNU5AE7OSX0', 'HTTP://007JNU5AE7OSX']) {
      expect(() => parseSetupPayload(bad), bad).toThrow(SetupDataError);
    }
    // header announces product data (bit 40) but none follows
    expect(() => parseSetupPayload('X-HM://0E8NKO6YU7OSX')).toThrow(/announces product data/);
    // a code field above 99 999 999 (0x7FFFFFF = 134 217 727 → base 36 "27WR27")
    expect(() => parseSetupPayload('X-HM://00027WR277OSX')).toThrow(/above 99999999/);
  });
});
