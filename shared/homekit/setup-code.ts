// HomeKit setup code: the 8-digit pairing secret (spec homekit-setup.md §1).
// Two spellings exist: `DDDDDDDD` (CLI, QR payload) and `DDD-DD-DDD` (SRP password, labels).
// Codes are secrets: nothing here ever puts a code into an error message.

/** Source of cryptographically secure random bytes; injectable so tests can force values. */
export type RandomBytes = (length: number) => Uint8Array;

/** The platform CSPRNG (Web Crypto: Node ≥ 20, Electron, browsers). Never Math.random. */
export const cryptoRandomBytes: RandomBytes = (length) => crypto.getRandomValues(new Uint8Array(length));

/**
 * The 12 codes HAP forbids: all digits equal, 12345678 and 87654321. The ADK's check was run over
 * all 10^8 codes and rejects exactly these (vector setup-codes.json).
 */
export const FORBIDDEN_SETUP_CODES: readonly string[] = Object.freeze([
  ...Array.from({ length: 10 }, (_, d) => String(d).repeat(8)),
  '12345678',
  '87654321',
]);
const FORBIDDEN = new Set(FORBIDDEN_SETUP_CODES);

const PLAIN_FORM = /^[0-9]{8}$/;
const HYPHENATED_FORM = /^([0-9]{3})-([0-9]{2})-([0-9]{3})$/;

/** Bad setup code (or setup ID); the message never contains the code itself. */
export class SetupDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupDataError';
  }
}

/** Why `input` is not a usable setup code, or undefined when it is. Accepts both spellings. */
export function setupCodeProblem(input: string): string | undefined {
  const digits = toDigits(input);
  if (digits === undefined) return 'setup code must be 8 digits, written DDDDDDDD or DDD-DD-DDD';
  if (FORBIDDEN.has(digits)) {
    // Generic on purpose: the message must not reveal which code was typed.
    return 'setup code is one of the 12 codes HomeKit forbids (all digits equal, or the runs 1 to 8 and 8 to 1); use another code';
  }
  return undefined;
}

export function isValidSetupCode(input: string): boolean {
  return setupCodeProblem(input) === undefined;
}

/** True for the 12 forbidden codes (either spelling); false for anything else, malformed included. */
export function isForbiddenSetupCode(input: string): boolean {
  const digits = toDigits(input);
  return digits !== undefined && FORBIDDEN.has(digits);
}

/** Validates and returns the code as 8 plain digits (leading zeros kept). Throws SetupDataError. */
export function parseSetupCode(input: string): string {
  const problem = setupCodeProblem(input);
  if (problem !== undefined) throw new SetupDataError(problem);
  return toDigits(input)!;
}

/** `DDD-DD-DDD`: the SRP password and the label form. Validates like parseSetupCode. */
export function formatSetupCode(input: string): string {
  const d = parseSetupCode(input);
  return `${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}`;
}

/** Largest multiple of 10^8 below 2^32: 32-bit draws at or above it are redrawn (no modulo bias). */
const DRAW_LIMIT = Math.floor(2 ** 32 / 1e8) * 1e8;

/**
 * A fresh random code (8 plain digits), uniform over the 10^8 − 12 allowed codes: uniform 32-bit
 * draws with rejection sampling, redrawn while forbidden.
 */
export function generateSetupCode(random: RandomBytes = cryptoRandomBytes): string {
  for (;;) {
    const b = random(4);
    if (b.length !== 4) throw new Error(`random source returned ${b.length} bytes, expected 4`);
    const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (n >= DRAW_LIMIT) continue;
    const code = String(n % 1e8).padStart(8, '0');
    if (!FORBIDDEN.has(code)) return code;
  }
}

function toDigits(input: string): string | undefined {
  if (PLAIN_FORM.test(input)) return input;
  const m = HYPHENATED_FORM.exec(input);
  return m ? m[1]! + m[2]! + m[3]! : undefined;
}
