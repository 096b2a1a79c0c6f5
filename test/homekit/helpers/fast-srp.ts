// Pair-Setup as an independent party runs it: the controller (fast-srp-hap's SrpClient) knows only
// the setup code, the accessory (fast-srp-hap's SrpServer) only salt + verifier.
//
// fast-srp-hap does its modular exponentiation with jsbn (~300 ms per handshake here). For the
// many-handshake tests, `useOpenSslModPow()` swaps jsbn's modPow for OpenSSL's (through a Node
// Diffie-Hellman object on the same prime: priv = exponent, computeSecret(base) = base^priv mod N).
// Everything else — hashing, padding, k, u, S, K, M1, M2 — stays fast-srp-hap's own code, and
// neither side shares any code with shared/homekit/srp.ts.
import { createRequire } from 'node:module';
import { createDiffieHellman, randomBytes } from 'node:crypto';
import { SRP, SrpClient, SrpServer } from 'fast-srp-hap';

interface JsbnBigInteger {
  toString(radix: number): string;
  compareTo(other: JsbnBigInteger): number;
  modPow(e: JsbnBigInteger, m: JsbnBigInteger): JsbnBigInteger;
}
type JsbnCtor = { new (text: string, radix: number): JsbnBigInteger; prototype: JsbnBigInteger };

const require = createRequire(import.meta.url);
const BigInteger = require('fast-srp-hap/jsbn/jsbn') as JsbnCtor;
export const HAP_PARAMS = SRP.params.hap;

let installed = false;

function toNative(v: JsbnBigInteger): bigint {
  const hex = v.toString(16);
  return hex.startsWith('-') ? -BigInt(`0x${hex.slice(1)}`) : BigInt(`0x${hex}`);
}

function toBuffer(v: bigint, length?: number): Buffer {
  const hex = v.toString(16);
  return Buffer.from(hex.padStart(length ? length * 2 : hex.length + (hex.length % 2), '0'), 'hex');
}

function nativeModPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
  }
  return r;
}

/**
 * A random 256-bit private key whose top bit is set: fast-srp-hap warns ("client key length 248 is
 * less than the recommended 256 bits") whenever a plain random 32 bytes start with a zero byte.
 */
function fullLengthSecret(): Buffer {
  const secret = randomBytes(32);
  secret[0]! |= 0x80;
  return secret;
}

/** Make fast-srp-hap's modPow mod the HAP prime run in OpenSSL (idempotent). */
export function useOpenSslModPow(): void {
  if (installed) return;
  installed = true;
  const N = HAP_PARAMS.N as unknown as JsbnBigInteger;
  const nNative = toNative(N);
  // Generator 2 makes OpenSSL recognise the RFC 3526 group and skip a 1.5 s prime check; the
  // generator is never used (every call passes its base to computeSecret).
  const dh = createDiffieHellman(toBuffer(nNative, 384), Buffer.from([2]));
  const original = BigInteger.prototype.modPow;
  BigInteger.prototype.modPow = function (this: JsbnBigInteger, e: JsbnBigInteger, m: JsbnBigInteger): JsbnBigInteger {
    if (m.compareTo(N) !== 0) return original.call(this, e, m);
    const base = ((toNative(this) % nNative) + nNative) % nNative;
    const exp = toNative(e);
    let r: bigint;
    if (exp <= 0n || base <= 1n || base === nNative - 1n) {
      r = nativeModPow(base, exp, nNative); // values OpenSSL's DH refuses as public keys
    } else {
      dh.setPrivateKey(toBuffer(exp));
      r = BigInt(`0x${dh.computeSecret(toBuffer(base, 384)).toString('hex')}`);
    }
    return new BigInteger(r.toString(16), 16);
  };
}

export type HandshakeResult = { ok: true } | { ok: false; failedAt: string };

/**
 * One Pair-Setup SRP exchange. The accessory side gets only `salt` and `verifier`; the controller
 * only the setup code as typed on the label (`DDD-DD-DDD`).
 */
export function pairSetup(salt: Uint8Array, verifier: Uint8Array, password: string): HandshakeResult {
  const accessory = new SrpServer(HAP_PARAMS, { username: 'Pair-Setup', salt: Buffer.from(salt), verifier: Buffer.from(verifier) }, randomBytes(32));
  const controller = new SrpClient(HAP_PARAMS, Buffer.from(salt), Buffer.from('Pair-Setup'), Buffer.from(password), fullLengthSecret());
  controller.setB(accessory.computeB());
  accessory.setA(controller.computeA());
  try {
    accessory.checkM1(controller.computeM1());
  } catch {
    return { ok: false, failedAt: 'M1 (accessory rejected the controller proof)' };
  }
  try {
    controller.checkM2(accessory.computeM2());
  } catch {
    return { ok: false, failedAt: 'M2 (controller rejected the accessory proof)' };
  }
  return { ok: true };
}
