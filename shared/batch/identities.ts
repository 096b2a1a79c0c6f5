// Draws batch identities (setup code, setup ID, salt) from the CSPRNG and keeps them unique:
// within the batch (including identities a resumed run already journaled) and, through `isTaken`,
// against anything outside it (the station database, files already in the output folder).
// The 12 forbidden codes are never drawn (generateSetupCode excludes them).
import { cryptoRandomBytes, generateSetupCode, type RandomBytes } from '../homekit/setup-code.ts';
import { generateSetupId } from '../homekit/setup-id.ts';
import { SRP_SALT_LENGTH } from '../homekit/srp.ts';
import type { BatchIdentity } from './unit.ts';

export type IdentityKind = 'setupCode' | 'setupId';

export interface IdentityAllocatorOptions {
  random?: RandomBytes;
  /** True when a value is already used outside this batch (so must not be issued). */
  isTaken?: (kind: IdentityKind, value: string) => boolean;
  /** Give up after this many consecutive redraws (a nearly exhausted ID space). Default 10 000. */
  maxAttempts?: number;
}

export class IdentityExhaustedError extends Error {
  constructor(kind: IdentityKind, attempts: number) {
    super(`could not find an unused ${kind === 'setupCode' ? 'setup code' : 'setup ID'} after ${attempts} attempts`);
    this.name = 'IdentityExhaustedError';
  }
}

export class IdentityAllocator {
  private readonly codes = new Set<string>();
  private readonly ids = new Set<string>();
  private readonly random: RandomBytes;
  private readonly isTaken: (kind: IdentityKind, value: string) => boolean;
  private readonly maxAttempts: number;

  constructor(options: IdentityAllocatorOptions = {}) {
    this.random = options.random ?? cryptoRandomBytes;
    this.isTaken = options.isTaken ?? (() => false);
    this.maxAttempts = options.maxAttempts ?? 10_000;
  }

  get size(): number {
    return this.codes.size;
  }

  /** Records an identity issued earlier (a journal being resumed). Throws on a duplicate. */
  adopt(identity: Pick<BatchIdentity, 'setupCode' | 'setupId'>): void {
    if (this.codes.has(identity.setupCode)) throw new Error(`setup code of unit is issued twice in the journal`);
    if (this.ids.has(identity.setupId)) throw new Error(`setup ID ${identity.setupId} is issued twice in the journal`);
    this.codes.add(identity.setupCode);
    this.ids.add(identity.setupId);
  }

  /** A fresh identity for batch position `index`, unique in the batch and not taken outside it. */
  next(index: number): BatchIdentity {
    const setupCode = this.draw('setupCode', this.codes, () => generateSetupCode(this.random));
    const setupId = this.draw('setupId', this.ids, () => generateSetupId(this.random));
    const salt = this.random(SRP_SALT_LENGTH);
    if (salt.length !== SRP_SALT_LENGTH) throw new Error('random source returned a short salt');
    return { index, setupCode, setupId, salt };
  }

  private draw(kind: IdentityKind, used: Set<string>, generate: () => string): string {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const value = generate();
      if (used.has(value) || this.isTaken(kind, value)) continue;
      used.add(value);
      return value;
    }
    throw new IdentityExhaustedError(kind, this.maxAttempts);
  }
}
