// The boot-check stage on the wire: reset the verified unit into its firmware with the host at the
// firmware console's rate, feed what it prints to the profile's matcher (shared/station/boot-check.ts)
// and decide as soon as the matcher can — a forbidden line or a wrong setup ID fails at once, the
// last required line passes (after `settleSeconds` more of listening), the time limit decides the
// rest. Event-driven: nothing is polled; the timers are the profile's limits, not waits.
// Without a boot check in the profile the stage only resets the unit, as the station always did.
import { BootLogMatcher, type BootCheckSettings, type BootExpectation, type BootVerdict } from '../../shared/station/boot-check.ts';
import { FlashError, flashErrorMessage, toFlashError, type FlashSession } from '../flash/index.ts';

export interface BootCheckOutcome {
  /** null: the product has no boot check (the unit was only reset). */
  verdict: BootVerdict | null;
  /** What the firmware printed (setup code removed), when it was listened to. */
  log: string | null;
  /** Worth telling the operator, not a failure (no reset without a boot check). */
  warning?: string;
}

/** Resets the unit into its firmware and, when `settings` is given, checks its boot log. */
export async function bootUnit(
  session: FlashSession,
  settings: BootCheckSettings | undefined,
  expected: BootExpectation,
  signal: AbortSignal,
  onStatus: (message: string) => void,
): Promise<BootCheckOutcome> {
  if (!settings) return { verdict: null, log: null, warning: await resetOnly(session) };
  const matcher = new BootLogMatcher(settings, expected);
  let changed: () => void = () => {};
  let started: { reset: boolean; stop: () => void };
  try {
    started = await session.startFirmware(settings.baud, (text) => {
      matcher.push(text);
      changed();
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    return { verdict: { ok: false, code: 'boot-no-reset', message: `Boot check: the unit could not be reset into its firmware (${(err as Error).message}).` }, log: matcher.log };
  }
  if (!started.reset) onStatus('Reset the unit by hand (press RESET): listening for its boot log');
  try {
    const verdict = await decide(matcher, settings, session, signal, (fn) => (changed = fn));
    return { verdict, log: matcher.log };
  } finally {
    started.stop();
  }
}

async function resetOnly(session: FlashSession): Promise<string | undefined> {
  try {
    await session.hardReset();
    return undefined;
  } catch {
    return 'The unit did not reset after flashing: power-cycle it before testing.';
  }
}

function isAbort(err: unknown): boolean {
  return err instanceof FlashError && (err.code === 'cancelled' || err.code === 'unplugged');
}

/** Waits for the matcher's verdict, the time limit, a cancel or the port going away. */
function decide(matcher: BootLogMatcher, settings: BootCheckSettings, session: FlashSession, signal: AbortSignal, onChange: (fn: () => void) => void): Promise<BootVerdict> {
  return new Promise<BootVerdict>((resolve, reject) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    let settling = false;
    const end = (fn: () => void) => {
      for (const t of timers) clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      onChange(() => {});
      fn();
    };
    const onAbort = () => end(() => reject(new FlashError('cancelled', flashErrorMessage('cancelled', session.path), { stage: 'boot-check' })));
    const check = () => {
      if (matcher.failed) return end(() => resolve(matcher.failed!));
      if (matcher.complete && !settling) {
        settling = true;
        if (settings.settleSeconds === 0) return end(() => resolve({ ok: true }));
        timers.push(setTimeout(() => end(() => resolve(matcher.failed ?? { ok: true })), settings.settleSeconds * 1000));
      }
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    session.whenFailed().catch((err: unknown) => end(() => reject(toFlashError(err, { port: session.path, stage: 'boot-check' }))));
    timers.push(setTimeout(() => end(() => resolve(matcher.failed ?? (settling ? { ok: true } : matcher.finish()))), settings.timeoutSeconds * 1000));
    onChange(check);
    check();
  });
}
