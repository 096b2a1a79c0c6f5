// The engineer PIN against guessing. A 4-digit PIN has 10 000 values: without a limit a renderer
// (or anyone at the keyboard) tries them all in minutes. So:
//   * FREE_ATTEMPTS wrong PINs in a row are allowed (typos); after that every wrong PIN locks
//     unlocking out for a wait that doubles each time (30 s, 1 min, 2 min … up to 1 h). While
//     locked out even the right PIN is refused, unchecked. A right PIN resets the count.
//   * The count and the wait are kept in the data folder (pin-guard.json, 0600), so restarting the
//     app does not reset them. (Someone who can edit that file can edit the profile too.)
//   * scrypt runs asynchronously (libuv's thread pool): checking a PIN never blocks the main process
//     (the window, the port watcher, a unit being flashed). One check at a time.
// At the limit, guessing a 4-digit PIN takes about a year.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs/index.ts';
import { verifyPin } from '../station/profile-file.ts';
import { AppError } from './errors.ts';

export const FREE_ATTEMPTS = 5;
export const FIRST_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 3_600_000;

interface GuardState {
  /** Wrong PINs since the last right one. */
  failures: number;
  /** Epoch ms until which no PIN is checked. */
  lockedUntil: number;
}

export class PinGuard {
  private state: GuardState;
  private checking = false;

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.state = this.load(file);
  }

  private load(file: string): GuardState {
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<GuardState>;
      const failures = Number.isSafeInteger(raw.failures) && raw.failures! >= 0 ? raw.failures! : 0;
      const lockedUntil = Number.isFinite(raw.lockedUntil) && raw.lockedUntil! >= 0 ? raw.lockedUntil! : 0;
      return { failures, lockedUntil };
    } catch {
      // No file yet, or a damaged one. A damaged file must not become a way around the wait:
      // only a missing file starts from zero.
      try {
        readFileSync(file);
      } catch {
        return { failures: 0, lockedUntil: 0 };
      }
      return { failures: FREE_ATTEMPTS, lockedUntil: this.now() + FIRST_LOCKOUT_MS };
    }
  }

  /** Milliseconds until a PIN may be tried again (0: now). */
  waitMs(): number {
    return Math.max(0, this.state.lockedUntil - this.now());
  }

  /**
   * Checks `pin` against the stored hash. Throws AppError 'locked-out' (without checking) while a
   * wait runs, 'busy' while another check runs; returns whether the PIN is right.
   */
  async check(pin: string, pinHash: string): Promise<boolean> {
    const wait = this.waitMs();
    if (wait > 0) throw new AppError('locked-out', `Too many wrong PINs: try again in ${formatWait(wait)}.`);
    if (this.checking) throw new AppError('busy', 'A PIN is being checked already.');
    this.checking = true;
    let ok: boolean;
    try {
      ok = await verifyPin(pin, pinHash);
    } finally {
      this.checking = false;
    }
    if (ok) {
      if (this.state.failures !== 0 || this.state.lockedUntil !== 0) await this.save({ failures: 0, lockedUntil: 0 });
      return true;
    }
    const failures = this.state.failures + 1;
    const over = failures - FREE_ATTEMPTS;
    const lockedUntil = over >= 0 ? this.now() + Math.min(FIRST_LOCKOUT_MS * 2 ** Math.min(over, 20), MAX_LOCKOUT_MS) : 0;
    await this.save({ failures, lockedUntil });
    return false;
  }

  private async save(state: GuardState): Promise<void> {
    this.state = state;
    await writeFileAtomic(this.file, `${JSON.stringify(state)}\n`, 0o600);
  }
}

/** "29 s", "2 min", "1 h". */
export function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.ceil(s / 60);
  return min < 120 ? `${min} min` : `${Math.ceil(min / 60)} h`;
}
