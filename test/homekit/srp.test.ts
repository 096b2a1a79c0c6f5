// Verifier vectors from the reference tools and the ADK, cross-checked against fast-srp-hap (an
// independent SRP-6a implementation with its own bignum code).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SRP, SrpClient, SrpServer } from 'fast-srp-hap';
import { adoptSrpTable, computeSrpX, computeVerifier, generateSetupInfo, SRP_G, SRP_N, srpPowDirect, srpPowTable, srpTableSnapshot } from '../../shared/homekit/srp.ts';
import { randomBytes } from 'node:crypto';

const srp = JSON.parse(readFileSync('test/fixtures/homekit/srp.json', 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const I = Buffer.from('Pair-Setup');

/** fast-srp-hap's verifier (jsbn bignums, node:crypto hashes). */
function independentVerifier(password: string, salt: Uint8Array): string {
  return SRP.computeVerifier(SRP.params.hap, Buffer.from(salt), I, Buffer.from(password)).toString('hex');
}

/** CSV value of `key` in a factory CSV. */
function csvValue(csv: string, key: string): string {
  const line = csv.split('\n').find((l) => l.startsWith(`${key},`))!;
  return line.split(',')[3]!;
}

describe('SRP group', () => {
  it('is the HAP group fast-srp-hap uses (RFC 5054 3072-bit, g = 5)', () => {
    expect(SRP_N.toString(16)).toBe(SRP.params.hap.N.toString(16));
    expect(SRP_G).toBe(5n);
    expect(parseInt(SRP.params.hap.g.toString(16), 16)).toBe(5);
  });
});

describe('computeVerifier', () => {
  it('reproduces the verifier printed in the ADK AccessorySetupGenerator documentation', () => {
    const ex = srp.adk_doc_example;
    expect(hex(computeVerifier(ex.setup_code, unhex(ex.salt_hex)))).toBe(ex.verifier_hex.toLowerCase());
    expect(hex(computeVerifier(ex.setup_code.replace(/-/g, ''), unhex(ex.salt_hex)))).toBe(ex.verifier_hex.toLowerCase());
  });

  it('reproduces x and v of the fixed-secret transcript', () => {
    const t = srp.handshake_transcript;
    expect(hex(computeSrpX(t.password, unhex(t.salt)))).toBe(t.x);
    expect(hex(computeVerifier(t.password, unhex(t.salt)))).toBe(t.verifier);
  });

  it('agrees with fast-srp-hap on random codes and salts, leading zero bytes and leading-zero verifiers included', () => {
    const cases: [string, Uint8Array][] = [
      ['012-34-567', unhex('0000a0b0c0d0e0f00102030405060708')],
      ['111-22-333', unhex('00a1b2c3d4e5f60718293a4b5c6d7e8f')],
      ['000-00-001', new Uint8Array(16)],
    ];
    for (let i = 0; i < 5; i++) {
      const salt = new Uint8Array(Buffer.from(crypto.getRandomValues(new Uint8Array(16))));
      if (i < 2) salt[0] = 0;
      const d = String(Math.floor(Math.random() * 1e8)).padStart(8, '0');
      if (/^(\d)\1{7}$|^12345678$|^87654321$/.test(d)) continue;
      cases.push([`${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`, salt]);
    }
    for (const [password, salt] of cases) {
      const v = computeVerifier(password, salt);
      expect(v.length).toBe(384);
      expect(hex(v)).toBe(independentVerifier(password, salt).padStart(768, '0'));
    }
  });

  it('fixes quirk q1: x covers all 16 salt bytes, where the reference used 15', () => {
    const csv = readFileSync('test/fixtures/homekit/quirks/q1-random-salt-leading-zero/bug.csv', 'utf8');
    const salt = unhex(csvValue(csv, 'setup_salt'));
    const referenceVerifier = csvValue(csv, 'setup_verifier');
    expect(salt[0]).toBe(0);
    // The reference's verifier is the one for the 15-byte salt (its bug) ...
    expect(referenceVerifier).toBe(independentVerifier('111-22-333', salt.subarray(1)).padStart(768, '0'));
    // ... ours is the one for the 16 bytes that are stored.
    const ours = hex(computeVerifier('11122333', salt));
    expect(ours).not.toBe(referenceVerifier);
    expect(ours).toBe(independentVerifier('111-22-333', salt).padStart(768, '0'));
  });

  it('refuses salts that are not 16 bytes (quirk q5) and forbidden or malformed codes', () => {
    expect(() => computeVerifier('11122333', unhex('aabbccdd'))).toThrow(/16 bytes/);
    expect(() => computeVerifier('11122333', new Uint8Array(17))).toThrow(/16 bytes/);
    expect(() => computeVerifier('00000000', new Uint8Array(16))).toThrow(/forbids/);
    expect(() => computeVerifier('1112233', new Uint8Array(16))).toThrow(/8 digits/);
  });
});

describe('g^x: square-and-multiply (first verifiers of a process) and the fixed-base table agree', () => {
  it('on random exponents, exponents with zero digits, 0 and 1', () => {
    const xs = Array.from({ length: 12 }, () => new Uint8Array(randomBytes(64)));
    xs[0]!.fill(0, 0, 20); // leading zero digits
    xs[1]!.fill(0, 30, 64); // trailing zero digits
    xs[2]!.fill(0xff);
    const zero = new Uint8Array(64);
    const one = new Uint8Array(64);
    one[63] = 1;
    for (const x of xs) expect(srpPowDirect(x)).toBe(srpPowTable(x));
    expect(srpPowDirect(zero)).toBe(1n);
    expect(srpPowTable(zero)).toBe(1n);
    expect(srpPowDirect(one)).toBe(SRP_G);
    expect(srpPowTable(one)).toBe(SRP_G);
  });
});

describe('fixed-base table hand-over (srpTableSnapshot / adoptSrpTable)', () => {
  const pow = (b: bigint, e: bigint) => {
    let r = 1n;
    for (let x = b % SRP_N; e > 0n; e >>= 1n, x = (x * x) % SRP_N) if (e & 1n) r = (r * x) % SRP_N;
    return r;
  };
  const t = srpTableSnapshot();
  const rows = Array.from({ length: 64 }, (_, i) => t.slice(i * 256, (i + 1) * 256));

  it('row i holds g^(d·256^i) mod N, and a copy is accepted', () => {
    expect(rows.length).toBe(64);
    for (const [i, d] of [[0, 1], [0, 255], [1, 1], [17, 200], [63, 255]] as const) {
      expect(rows[i]![d]).toBe(pow(SRP_G, BigInt(d) * 256n ** BigInt(i)));
    }
    expect(() => adoptSrpTable([...t])).not.toThrow();
  });

  it('refuses anything else: a missing or swapped row, a wrong entry, a non-bigint, an entry ≥ N', () => {
    expect(() => adoptSrpTable(t.slice(256))).toThrow(/not the SRP/);
    const swapped = [...rows];
    [swapped[40], swapped[41]] = [swapped[41]!, swapped[40]!];
    expect(() => adoptSrpTable(swapped.flat())).toThrow(/not the SRP fixed-base table/);
    const wrongEnd = [...t];
    wrongEnd[5 * 256 + 255] = wrongEnd[5 * 256 + 255]! + 1n;
    expect(() => adoptSrpTable(wrongEnd)).toThrow(/not the SRP/);
    const notBig = [...t] as unknown[];
    notBig[1000] = 5;
    expect(() => adoptSrpTable(notBig as bigint[])).toThrow(/not the SRP/);
    const tooBig = [...t];
    tooBig[4000] = SRP_N;
    expect(() => adoptSrpTable(tooBig)).toThrow(/not the SRP/);
  });
});

describe('generateSetupInfo', () => {
  it('uses the random source for the 16-byte salt, a leading 0x00 included', () => {
    const forced = unhex('00ff00112233445566778899aabbccdd');
    const info = generateSetupInfo('518-08-582', (n) => forced.slice(0, n));
    expect(hex(info.salt)).toBe(hex(forced));
    expect(hex(info.verifier)).toBe(independentVerifier('518-08-582', forced).padStart(768, '0'));
  });

  it('draws fresh salts from the CSPRNG by default', () => {
    const a = generateSetupInfo('51808582');
    const b = generateSetupInfo('51808582');
    expect(a.salt.length).toBe(16);
    expect(hex(a.salt)).not.toBe(hex(b.salt));
    expect(hex(a.verifier)).not.toBe(hex(b.verifier));
  });
});

describe('fixed-secret Pair-Setup transcript (srp.json)', () => {
  it('fast-srp-hap, given the transcript secrets and our salt + verifier, reproduces every value', () => {
    const t = srp.handshake_transcript;
    const salt = Buffer.from(t.salt, 'hex');
    const verifier = Buffer.from(computeVerifier(t.password, salt));
    const accessory = new SrpServer(SRP.params.hap, { username: t.username, salt, verifier }, Buffer.from(t.b, 'hex'));
    const controller = new SrpClient(SRP.params.hap, salt, Buffer.from(t.username), Buffer.from(t.password), Buffer.from(t.a, 'hex'));
    expect(controller.computeA().toString('hex')).toBe(t.A);
    const B = accessory.computeB();
    expect(B.toString('hex')).toBe(t.B);
    controller.setB(B);
    accessory.setA(controller.computeA());
    expect(accessory._u?.toString(16).padStart(128, '0')).toBe(t.u);
    expect(accessory._S?.toString('hex')).toBe(t.S);
    const M1 = controller.computeM1();
    expect(M1.toString('hex')).toBe(t.M1);
    accessory.checkM1(M1);
    expect(accessory.computeK().toString('hex')).toBe(t.K);
    expect(controller.computeK().toString('hex')).toBe(t.K);
    const M2 = accessory.computeM2();
    expect(M2.toString('hex')).toBe(t.M2);
    controller.checkM2(M2);
  });

  it('the transcript k is H(N ‖ PAD(g)) (checked with node:crypto)', async () => {
    const { createHash } = await import('node:crypto');
    const t = srp.handshake_transcript;
    const N = Buffer.from(SRP_N.toString(16), 'hex');
    const g = Buffer.alloc(384);
    g[383] = 5;
    expect(createHash('sha512').update(N).update(g).digest('hex')).toBe(t.k);
  });
});
