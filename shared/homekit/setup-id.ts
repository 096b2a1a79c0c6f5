// HomeKit setup ID: 4 characters 0-9 / A-Z, carried in the QR payload and stored as the
// `hap_setup/setup_id` blob (spec homekit-setup.md §2). Not a secret.
import { cryptoRandomBytes, SetupDataError, type RandomBytes } from './setup-code.ts';

export const SETUP_ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SETUP_ID_FORM = /^[0-9A-Z]{4}$/;

export function isValidSetupId(input: string): boolean {
  return SETUP_ID_FORM.test(input);
}

/** Why `input` is not a usable setup ID, or undefined when it is. */
export function setupIdProblem(input: string): string | undefined {
  if (SETUP_ID_FORM.test(input)) return undefined;
  return `setup ID ${JSON.stringify(input)} is invalid: it must be exactly 4 characters 0-9 or A-Z (upper case), e.g. ES32`;
}

/** Returns `input` when valid; throws SetupDataError otherwise. */
export function parseSetupId(input: string): string {
  const problem = setupIdProblem(input);
  if (problem !== undefined) throw new SetupDataError(problem);
  return input;
}

/** 252 = 7 × 36: bytes at or above it are redrawn so every symbol is equally likely. */
const BYTE_LIMIT = 252;

/** A fresh random setup ID, uniform over the 36^4 IDs. Uniqueness within a batch is the caller's job. */
export function generateSetupId(random: RandomBytes = cryptoRandomBytes): string {
  let id = '';
  while (id.length < 4) {
    for (const b of random(8)) {
      if (b < BYTE_LIMIT && id.length < 4) id += SETUP_ID_ALPHABET[b % 36];
    }
  }
  return id;
}
