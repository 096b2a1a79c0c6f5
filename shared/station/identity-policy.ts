// The one issuing policy for HomeKit identities. The station (db.reserveIdentity), the identity
// pool (a batch manifest imported into a product: db.importPool, manifest checks) and the offline
// batch (shared/batch/identities.ts) all follow it:
//
//   * a setup code AND a setup ID are each issued at most once per product — a unit provisioned
//     fresh, a pool identity and a batch accessory all count, and nothing is ever "un-issued";
//   * fresh values come from the CSPRNG (setup codes uniform over the 10^8 codes minus the 12 HAP
//     forbids, setup IDs uniform over the 36^4 IDs) and are redrawn while already issued;
//   * no fallback: when MAX_DRAWS draws in a row all hit issued values (a space that is nearly
//     used up), issuing stops with IdentityExhaustedError instead of repeating a value;
//   * an identity made elsewhere (a pool entry) joins only if neither its code nor its ID was issued.
//
// "Issued" is whatever the caller's IssuedIdentities says: the database's used-values tables, a
// batch's own sets plus its --db check, a manifest's entries so far.
import { cryptoRandomBytes, generateSetupCode, type RandomBytes } from '../homekit/setup-code.ts';
import { generateSetupId } from '../homekit/setup-id.ts';

export type IdentityKind = 'setupCode' | 'setupId';

/** 10^8 codes minus the 12 forbidden ones. */
export const SETUP_CODE_SPACE = 100_000_000 - 12;
/** 36^4 setup IDs. */
export const SETUP_ID_SPACE = 36 ** 4;
/** Consecutive draws of already issued values before giving up (at 99.9 % use, 1 in 22 000 gives up). */
export const MAX_DRAWS = 10_000;

/** What has been issued already (per product, or wider for the batch's --db check). */
export interface IssuedIdentities {
  isIssued(kind: IdentityKind, value: string): boolean;
}

export class IdentityExhaustedError extends Error {
  constructor(
    readonly kind: IdentityKind,
    readonly attempts: number,
  ) {
    super(`could not find an unused ${kind === 'setupCode' ? 'setup code' : 'setup ID'} after ${attempts} attempts`);
    this.name = 'IdentityExhaustedError';
  }
}

export interface DrawOptions {
  random?: RandomBytes;
  maxDraws?: number;
}

/** A fresh value of one kind that `issued` does not hold. */
export function drawUnissued(kind: IdentityKind, issued: IssuedIdentities, options: DrawOptions = {}): string {
  const random = options.random ?? cryptoRandomBytes;
  const maxDraws = options.maxDraws ?? MAX_DRAWS;
  for (let attempt = 0; attempt < maxDraws; attempt++) {
    const value = kind === 'setupCode' ? generateSetupCode(random) : generateSetupId(random);
    if (!issued.isIssued(kind, value)) return value;
  }
  throw new IdentityExhaustedError(kind, maxDraws);
}

/** A fresh setup code and setup ID, neither issued before. The caller records both as issued. */
export function drawIdentity(issued: IssuedIdentities, options: DrawOptions = {}): { setupCode: string; setupId: string } {
  return { setupCode: drawUnissued('setupCode', issued, options), setupId: drawUnissued('setupId', issued, options) };
}

/** What has been issued, asked of a database server (the line's registry answers asynchronously). */
export interface IssuedIdentitiesAsync {
  isIssued(kind: IdentityKind, value: string): Promise<boolean>;
}

/** drawUnissued for an asynchronous `issued` (same draws, same limit, same error). */
export async function drawUnissuedAsync(kind: IdentityKind, issued: IssuedIdentitiesAsync, options: DrawOptions = {}): Promise<string> {
  const random = options.random ?? cryptoRandomBytes;
  const maxDraws = options.maxDraws ?? MAX_DRAWS;
  for (let attempt = 0; attempt < maxDraws; attempt++) {
    const value = kind === 'setupCode' ? generateSetupCode(random) : generateSetupId(random);
    if (!(await issued.isIssued(kind, value))) return value;
  }
  throw new IdentityExhaustedError(kind, maxDraws);
}

/** drawIdentity for an asynchronous `issued`. The database's unique keys still have the last word. */
export async function drawIdentityAsync(issued: IssuedIdentitiesAsync, options: DrawOptions = {}): Promise<{ setupCode: string; setupId: string }> {
  return { setupCode: await drawUnissuedAsync('setupCode', issued, options), setupId: await drawUnissuedAsync('setupId', issued, options) };
}

/** Which value of an identity made elsewhere was issued already (the code is checked first), if any. */
export function issuedConflict(identity: { setupCode: string; setupId: string }, issued: IssuedIdentities): IdentityKind | undefined {
  if (issued.isIssued('setupCode', identity.setupCode)) return 'setupCode';
  if (issued.isIssued('setupId', identity.setupId)) return 'setupId';
  return undefined;
}

/** issuedConflict for an asynchronous `issued`. */
export async function issuedConflictAsync(identity: { setupCode: string; setupId: string }, issued: IssuedIdentitiesAsync): Promise<IdentityKind | undefined> {
  if (await issued.isIssued('setupCode', identity.setupCode)) return 'setupCode';
  if (await issued.isIssued('setupId', identity.setupId)) return 'setupId';
  return undefined;
}

/** In-memory issued values (a batch, a manifest being read): check and record. */
export class IssuedSet implements IssuedIdentities {
  private readonly codes = new Set<string>();
  private readonly ids = new Set<string>();

  constructor(private readonly outside?: IssuedIdentities) {}

  get size(): number {
    return this.codes.size;
  }

  isIssued(kind: IdentityKind, value: string): boolean {
    if ((kind === 'setupCode' ? this.codes : this.ids).has(value)) return true;
    return this.outside?.isIssued(kind, value) ?? false;
  }

  /** Records an identity as issued. */
  add(identity: { setupCode: string; setupId: string }): void {
    this.codes.add(identity.setupCode);
    this.ids.add(identity.setupId);
  }

  /** Only in this set (not `outside`): for an identity replayed from a journal. */
  hasOwn(kind: IdentityKind, value: string): boolean {
    return (kind === 'setupCode' ? this.codes : this.ids).has(value);
  }
}
