// The registry's records as the station sees them, and how a database row becomes one. A unit
// record holds its secrets (setup code, payload, SRP salt and verifier: labels must be
// reprintable); `unitSummary` is what may leave the station (events, history, the UI).
import type { UnitQuery, UnitStatus, UnitSummary } from '../../shared/station/events.ts';
import type { LabelSpec } from '../../shared/label/index.ts';
import type { ProductProfile } from '../../shared/station/profile.ts';
import type { IdentityKind } from '../../shared/station/identity-policy.ts';
import type { Row } from './engine.ts';

export interface UnitRecord extends UnitSummary {
  setupCode: string;
  payload: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  verifierSha256: string;
  imageSha256: string | null;
  poolId: number | null;
  /** The product's label settings when the unit was provisioned (null for units from before schema 3). */
  labelProfile: UnitLabelProfile | null;
}

/** What a unit's label is printed with, kept with the unit so a reprint never takes another product's. */
export interface UnitLabelProfile {
  productName: string;
  label: LabelSpec;
  printer?: ProductProfile['printer'];
  scanBack?: boolean;
}

export interface NewIdentity {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  payload: string;
  poolId?: number;
  /** A pool identity's serial number (given by its batch). */
  serial?: string;
}

export interface PoolIdentityRow {
  setupCode: string;
  setupId: string;
  salt: Uint8Array;
  verifier: Uint8Array;
  /** The serial number the batch gave it (and wrote into its NVS image and label), if any. */
  serial?: string;
}

export interface PoolImportResult {
  added: number;
  /** Identities not added (position in the list given): their setup code, setup ID or serial number was already issued. */
  skipped: { index: number; conflict: IdentityKind | 'serial' }[];
}

export interface UnitFilter extends UnitQuery {
  product?: string;
  /** Only units this station made (the line's registry holds every station's). */
  station?: string;
}

/** When a station set to pool identities finds the product's pool empty. */
export type PoolEmptyPolicy = 'stop' | 'fresh';

export function toRecord(r: Row): UnitRecord {
  return {
    id: r.id as number,
    product: r.product as string,
    mac: r.mac as string,
    chip: (r.chip as string | null) ?? null,
    setupCode: r.setup_code as string,
    setupId: r.setup_id as string,
    serial: (r.serial as string | null) ?? null,
    salt: new Uint8Array(r.salt as Uint8Array),
    verifier: new Uint8Array(r.verifier as Uint8Array),
    verifierSha256: r.verifier_sha256 as string,
    payload: r.payload as string,
    imageSha256: (r.image_sha256 as string | null) ?? null,
    station: r.station as string,
    operator: r.operator as string,
    status: r.status as UnitStatus,
    failure: (r.failure as string | null) ?? null,
    attempts: r.attempts as number,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    labelPrintCount: r.label_print_count as number,
    poolId: (r.pool_id as number | null) ?? null,
    slot: (r.slot as number | null) ?? null,
    labelVerifiedAt: (r.label_verified_at as string | null) ?? null,
    labelProfile: parseLabelProfile(r.label_profile),
  };
}

function parseLabelProfile(v: unknown): UnitLabelProfile | null {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as UnitLabelProfile;
  } catch {
    return null;
  }
}

/** The unit without its secrets: what events, history and the UI lists carry. */
export function unitSummary(u: UnitRecord): UnitSummary {
  const { setupCode: _c, payload: _q, salt: _s, verifier: _v, verifierSha256: _h, imageSha256: _i, poolId: _p, labelProfile: _l, ...summary } = u;
  return summary;
}

export function normalizeMac(mac: string): string {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12) throw new Error(`not a MAC address: ${mac}`);
  return hex.match(/../g)!.join(':');
}

/** A LIKE pattern over the MAC's 12 hex digits for a MAC typed in any form ("24:0A:C4", "240ac4", "24-0a-c4"). */
export function macSearchPattern(mac: string): string {
  return `%${mac.toLowerCase().replace(/[^0-9a-f]/g, '')}%`;
}

/** Bytes as the engines bind them. */
export function bytes(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
