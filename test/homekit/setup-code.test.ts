import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  FORBIDDEN_SETUP_CODES,
  formatSetupCode,
  generateSetupCode,
  isForbiddenSetupCode,
  isValidSetupCode,
  parseSetupCode,
  SetupDataError,
  setupCodeProblem,
} from '../../shared/homekit/setup-code.ts';
import { generateSetupId, isValidSetupId, parseSetupId, SETUP_ID_ALPHABET } from '../../shared/homekit/setup-id.ts';

const vectors = JSON.parse(readFileSync('test/fixtures/homekit/setup-codes.json', 'utf8')) as {
  invalid_codes: string[];
  invalid_codes_hyphenated: string[];
  valid_codes: string[];
  malformed_inputs: { input: string; why: string }[];
  setup_ids: { id: string; adk_valid: boolean }[];
};

/** A random source that replays the given bytes, then fails loudly. */
function scripted(...chunks: number[][]): (n: number) => Uint8Array {
  const bytes = chunks.flat();
  return (n) => {
    if (bytes.length < n) throw new Error('scripted random source exhausted');
    return Uint8Array.from(bytes.splice(0, n));
  };
}

describe('setup code validation', () => {
  it('forbids exactly the 12 codes of the exhaustive ADK scan, in both spellings', () => {
    expect([...FORBIDDEN_SETUP_CODES].sort()).toEqual([...vectors.invalid_codes].sort());
    for (const code of [...vectors.invalid_codes, ...vectors.invalid_codes_hyphenated]) {
      expect(isValidSetupCode(code), code).toBe(false);
      expect(isForbiddenSetupCode(code), code).toBe(true);
      expect(() => parseSetupCode(code)).toThrow(SetupDataError);
    }
  });

  it('accepts the valid examples (leading zeros, runs that are not 12345678/87654321)', () => {
    for (const code of vectors.valid_codes) {
      expect(parseSetupCode(code)).toBe(code);
      expect(isForbiddenSetupCode(code)).toBe(false);
    }
  });

  it('rejects malformed inputs; the hyphenated form is accepted where the tools take it', () => {
    for (const { input, why } of vectors.malformed_inputs) {
      if (input === '111-22-333') {
        // Malformed only for factory_nvs_gen's command line; it is the label/SRP spelling.
        expect(parseSetupCode(input)).toBe('11122333');
        continue;
      }
      expect(isValidSetupCode(input), why).toBe(false);
    }
    for (const bad of ['11-122-333', '111_22_333', '１１１２２３３３', '11122333 ', '111-22-3333']) expect(isValidSetupCode(bad), bad).toBe(false);
  });

  it('formats DDD-DD-DDD keeping leading zeros', () => {
    expect(formatSetupCode('01234567')).toBe('012-34-567');
    expect(formatSetupCode('518-08-582')).toBe('518-08-582');
    expect(formatSetupCode('00000001')).toBe('000-00-001');
  });

  it('never puts the code into an error message', () => {
    for (const code of ['87654321', '876-54-321', '1234567x']) {
      const problem = setupCodeProblem(code)!;
      expect(problem).toBeTruthy();
      expect(problem).not.toContain(code);
      expect(problem).not.toContain(code.replace(/-/g, ''));
    }
  });
});

describe('setup code generation', () => {
  it('maps a 32-bit draw to n mod 10^8, zero-padded', () => {
    expect(generateSetupCode(scripted([0x00, 0x00, 0x00, 0x07]))).toBe('00000007');
    expect(generateSetupCode(scripted([0x05, 0xf5, 0xe0, 0xfe]))).toBe('99999998'); // 0x05F5E0FE
    // 10^8 → 00000000 (forbidden, redrawn); 10^8 + 1 → 00000001.
    expect(generateSetupCode(scripted([0x05, 0xf5, 0xe1, 0x00], [0x05, 0xf5, 0xe1, 0x01]))).toBe('00000001');
  });

  it('redraws values at or above 4 200 000 000 (no modulo bias) and forbidden codes', () => {
    // 4 200 000 000 = 0xFA56EA00 → redrawn; 12 345 678 = 0x00BC614E → forbidden, redrawn; then 1.
    const random = scripted([0xfa, 0x56, 0xea, 0x00], [0x00, 0xbc, 0x61, 0x4e], [0x00, 0x00, 0x00, 0x01]);
    expect(generateSetupCode(random)).toBe('00000001');
    // 4 199 999 999 = 0xFA56E9FF is the largest accepted draw → 99 999 999 is forbidden → next.
    expect(generateSetupCode(scripted([0xfa, 0x56, 0xe9, 0xff], [0x00, 0x00, 0x00, 0x2a]))).toBe('00000042');
  });

  it('produces well-formed, allowed codes from the platform CSPRNG with plausibly uniform digits', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const code = generateSetupCode();
      expect(isValidSetupCode(code)).toBe(true);
      for (const d of code) counts[Number(d)]++;
    }
    // 16 000 digits: each digit ~1600 ± 38 (1σ); 1400..1800 is > 5σ.
    for (const c of counts) {
      expect(c).toBeGreaterThan(1400);
      expect(c).toBeLessThan(1800);
    }
  });
});

describe('setup ID', () => {
  it('follows the ADK validity of every vector', () => {
    for (const { id, adk_valid } of vectors.setup_ids) {
      expect(isValidSetupId(id), JSON.stringify(id)).toBe(adk_valid);
      if (!adk_valid) expect(() => parseSetupId(id)).toThrow(SetupDataError);
    }
    expect(isValidSetupId('es32x')).toBe(false); // quirk q4
  });

  it('maps bytes below 252 to symbols (b mod 36) and redraws the rest', () => {
    const random = scripted([0, 35, 252, 255, 36, 71, 251, 9]);
    expect(generateSetupId(random)).toBe('0Z0Z'); // 0→0, 35→Z, 252/255 redrawn, 36→0, 71→Z
  });

  it('generates valid IDs covering the whole alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const id = generateSetupId();
      expect(isValidSetupId(id)).toBe(true);
      for (const c of id) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe(SETUP_ID_ALPHABET);
  });
});
