// Identity-pool manifest: written by `factory-station batch`, imported by the station, which then
// hands these identities out in order instead of generating fresh ones. Every entry is checked on
// import — including recomputing the verifier — so a corrupted file can never brick a unit.
import { isValidSetupCode, parseSetupCode } from '../homekit/setup-code.ts';
import { isValidSetupId } from '../homekit/setup-id.ts';
import { computeVerifier, SRP_SALT_LENGTH, SRP_VERIFIER_LENGTH } from '../homekit/srp.ts';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { issuedConflict, IssuedSet } from './identity-policy.ts';

export const POOL_MANIFEST_FORMAT = 'factory-station-identity-pool';

export interface PoolIdentity {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  payload?: string;
  name?: string;
  /** The serial number its batch gave it (batches with `--serials`). */
  serial?: string;
}

export interface PoolManifest {
  runId?: string;
  createdAt?: string;
  category?: number;
  /** The product whose serial numbers the entries carry (batches with `--serials`). */
  serialProduct?: string;
  identities: PoolIdentity[];
}

const SERIAL_TEXT = /^[A-Za-z0-9._/ -]{1,64}$/;

export class ManifestError extends Error {
  constructor(source: string, where: string, detail: string) {
    super(`${source}: ${where}: ${detail}`);
    this.name = 'ManifestError';
  }
}

const hex = bytesToHex;

function unhex(text: unknown, length: number): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length !== length * 2 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return hexToBytes(text);
}

/** One identity as the manifest stores it (salt and verifier in hex). */
export interface PoolManifestEntry {
  name?: string | undefined;
  setupCode: string;
  setupId: string;
  payload?: string | undefined;
  salt: string;
  verifier: string;
  serial?: string | undefined;
}

/**
 * The manifest's text (2-space indented JSON) piece by piece, one identity at a time, so a large
 * batch's manifest never has to be one string in memory.
 */
export function* poolManifestText(head: Omit<PoolManifest, 'identities'>, entries: Iterable<PoolManifestEntry>): Generator<string> {
  const top = JSON.stringify({ format: POOL_MANIFEST_FORMAT, version: 1, runId: head.runId, createdAt: head.createdAt, category: head.category, serialProduct: head.serialProduct, units: [] }, null, 2);
  const open = top.lastIndexOf('[]');
  yield top.slice(0, open + 1);
  let index = 0;
  for (const e of entries) {
    const unit = { index, name: e.name, setupCode: e.setupCode, setupId: e.setupId, payload: e.payload, salt: e.salt, verifier: e.verifier, serial: e.serial };
    yield `${index === 0 ? '' : ','}\n    ${JSON.stringify(unit, null, 2).replace(/\n/g, '\n    ')}`;
    index++;
  }
  yield `${index === 0 ? '' : '\n  '}${top.slice(open + 1)}\n`;
}

/**
 * Parses and checks a manifest; errors name the entry (index and name) and the field. `expected`
 * is checked before any verifier is recomputed (a large manifest takes a while to verify);
 * `onProgress` hears how many verifiers are checked (every 256, and at the end).
 */
export function parsePoolManifest(
  text: string,
  source = 'manifest',
  expected: { category?: number; product?: string } = {},
  onProgress?: (done: number, total: number) => void,
): PoolManifest {
  const manifest = readPoolManifest(text, source, expected);
  const total = manifest.identities.length;
  for (let i = 0; i < total; i++) {
    checkPoolVerifier(manifest, i, source);
    if ((i + 1) % 256 === 0 || i + 1 === total) onProgress?.(i + 1, total);
  }
  return manifest;
}

/**
 * Everything parsePoolManifest checks except the verifiers (fast): for callers that verify the
 * entries themselves, a few at a time (checkPoolVerifier), to stay responsive.
 */
export function readPoolManifest(text: string, source = 'manifest', expected: { category?: number; product?: string } = {}): PoolManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ManifestError(source, 'file', 'not valid JSON');
  }
  if (!doc || doc.format !== POOL_MANIFEST_FORMAT) throw new ManifestError(source, 'format', `must be "${POOL_MANIFEST_FORMAT}"`);
  if (doc.version !== 1) throw new ManifestError(source, 'version', 'must be 1');
  if (!Array.isArray(doc.units)) throw new ManifestError(source, 'units', 'must be a list');
  // The category is required: without it the check against the product could not be made.
  if (doc.category === undefined) throw new ManifestError(source, 'category', 'missing: a batch manifest names the HomeKit category its payloads were made for');
  if (typeof doc.category !== 'number' || !Number.isInteger(doc.category) || doc.category < 1 || doc.category > 255) {
    throw new ManifestError(source, 'category', 'must be a whole number from 1 to 255');
  }
  if (expected.category !== undefined && doc.category !== expected.category) {
    throw new ManifestError(source, 'category', `${String(doc.category)} does not match the profile's category ${expected.category}`);
  }
  if (doc.units.length === 0) throw new ManifestError(source, 'units', 'the list is empty: no identities in the manifest');
  if (doc.serialProduct !== undefined && (typeof doc.serialProduct !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(doc.serialProduct))) throw new ManifestError(source, 'serialProduct', 'must be a product id');
  // Serial numbers belong to one product's counter: another product cannot take them.
  if (typeof doc.serialProduct === 'string' && expected.product !== undefined && doc.serialProduct !== expected.product) {
    throw new ManifestError(source, 'serialProduct', `the entries carry serial numbers of product ${doc.serialProduct}, not of ${expected.product}`);
  }
  const serials = new Set<string>();
  // Within the manifest, the issuing policy: no setup code and no setup ID twice.
  const seen = new IssuedSet();
  const identities = doc.units.map((raw: Record<string, unknown>, i: number): PoolIdentity => {
    const name = typeof raw?.name === 'string' ? raw.name : undefined;
    const where = poolEntryName(i, typeof raw?.setupId === 'string' && isValidSetupId(raw.setupId) ? raw.setupId : undefined);
    if (typeof raw?.setupCode !== 'string' || !isValidSetupCode(raw.setupCode)) throw new ManifestError(source, `${where}.setupCode`, 'not a valid, allowed setup code');
    if (typeof raw.setupId !== 'string' || !isValidSetupId(raw.setupId)) throw new ManifestError(source, `${where}.setupId`, 'must be 4 characters 0-9/A-Z');
    const salt = unhex(raw.salt, SRP_SALT_LENGTH);
    if (!salt) throw new ManifestError(source, `${where}.salt`, `must be ${SRP_SALT_LENGTH * 2} hex digits`);
    const verifier = unhex(raw.verifier, SRP_VERIFIER_LENGTH);
    if (!verifier) throw new ManifestError(source, `${where}.verifier`, `must be ${SRP_VERIFIER_LENGTH * 2} hex digits`);
    const setupCode = parseSetupCode(raw.setupCode);
    const twice = issuedConflict({ setupCode, setupId: raw.setupId }, seen);
    if (twice) throw new ManifestError(source, `${where}.${twice}`, 'appears twice in the manifest');
    seen.add({ setupCode, setupId: raw.setupId });
    const identity: PoolIdentity = { setupCode, setupId: raw.setupId, salt, verifier, payload: typeof raw.payload === 'string' ? raw.payload : undefined, name };
    if ((raw.serial !== undefined) !== (doc.serialProduct !== undefined)) throw new ManifestError(source, `${where}.serial`, doc.serialProduct === undefined ? 'the manifest names no serialProduct' : 'missing: every entry of this batch has a serial number');
    if (raw.serial !== undefined) {
      if (typeof raw.serial !== 'string' || !SERIAL_TEXT.test(raw.serial)) throw new ManifestError(source, `${where}.serial`, 'must be a serial number (1 to 64 letters, digits, . _ / - or spaces)');
      if (serials.has(raw.serial)) throw new ManifestError(source, `${where}.serial`, 'appears twice in the manifest');
      serials.add(raw.serial);
      identity.serial = raw.serial;
    }
    return identity;
  });
  return {
    runId: typeof doc.runId === 'string' ? doc.runId : undefined,
    createdAt: typeof doc.createdAt === 'string' ? doc.createdAt : undefined,
    category: typeof doc.category === 'number' ? doc.category : undefined,
    ...(typeof doc.serialProduct === 'string' ? { serialProduct: doc.serialProduct } : {}),
    identities,
  };
}

/** Recomputes entry `index`'s verifier from its code and salt; a mismatch names the entry. */
export function checkPoolVerifier(manifest: PoolManifest, index: number, source = 'manifest'): void {
  const u = manifest.identities[index]!;
  if (hex(computeVerifier(u.setupCode, u.salt)) !== hex(u.verifier)) {
    throw new ManifestError(source, `${poolEntryName(index, u.setupId)}.verifier`, 'does not match its setup code and salt');
  }
}

/**
 * How messages name an entry: position and setup ID. Not its file name — with the batch's default
 * file id that is the setup code, a secret that must not reach a terminal or a log.
 */
export function poolEntryName(index: number, setupId: string | undefined): string {
  return `units[${index}]${setupId !== undefined ? ` (setup ID ${setupId})` : ''}`;
}
