// Batch identities (setup code, setup ID, salt) under the one issuing policy of
// shared/station/identity-policy.ts: unique within the batch (including identities a resumed run
// already journaled) and, through `isTaken`, against anything outside it (the station database,
// files already in the output folder). The 12 forbidden codes are never drawn.
import { cryptoRandomBytes, type RandomBytes } from '../homekit/setup-code.ts';
import { SRP_SALT_LENGTH } from '../homekit/srp.ts';
import { drawIdentity, IssuedSet, MAX_DRAWS, type IdentityKind } from '../station/identity-policy.ts';
import type { BatchIdentity } from './unit.ts';

export { IdentityExhaustedError, type IdentityKind } from '../station/identity-policy.ts';

export interface IdentityAllocatorOptions {
  random?: RandomBytes;
  /** True when a value is already used outside this batch (so must not be issued). */
  isTaken?: (kind: IdentityKind, value: string) => boolean;
  /** Give up after this many consecutive redraws (a nearly exhausted ID space). Default MAX_DRAWS. */
  maxAttempts?: number;
}

export class IdentityAllocator {
  private readonly issued: IssuedSet;
  private readonly random: RandomBytes;
  private readonly maxAttempts: number;

  constructor(options: IdentityAllocatorOptions = {}) {
    this.random = options.random ?? cryptoRandomBytes;
    const isTaken = options.isTaken ?? (() => false);
    this.issued = new IssuedSet({ isIssued: isTaken });
    this.maxAttempts = options.maxAttempts ?? MAX_DRAWS;
  }

  get size(): number {
    return this.issued.size;
  }

  /** Records an identity issued earlier (a journal being resumed). Throws on a duplicate. */
  adopt(identity: Pick<BatchIdentity, 'setupCode' | 'setupId'>): void {
    if (this.issued.hasOwn('setupCode', identity.setupCode)) throw new Error(`setup code of unit is issued twice in the journal`);
    if (this.issued.hasOwn('setupId', identity.setupId)) throw new Error(`setup ID ${identity.setupId} is issued twice in the journal`);
    this.issued.add(identity);
  }

  /** A fresh identity for batch position `index`, unique in the batch and not taken outside it. */
  next(index: number): BatchIdentity {
    const { setupCode, setupId } = drawIdentity(this.issued, { random: this.random, maxDraws: this.maxAttempts });
    const salt = this.random(SRP_SALT_LENGTH);
    if (salt.length !== SRP_SALT_LENGTH) throw new Error('random source returned a short salt');
    this.issued.add({ setupCode, setupId });
    return { index, setupCode, setupId, salt };
  }
}
