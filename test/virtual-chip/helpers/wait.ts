// Waiting for a condition instead of sleeping a fixed time: the machine running the tests is
// shared and loaded, so "it happens within 30 ms" is not something a test may assume. The
// timeout only bounds a failure; a passing run waits exactly as long as the condition takes.

/** Resolves once `condition()` holds; rejects naming `what` after `timeoutMs` (default 10 s). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
