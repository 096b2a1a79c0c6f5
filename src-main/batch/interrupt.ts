// Ctrl-C (or SIGTERM from a supervisor) during a batch: the first one stops issuing identities and
// lets the accessories in progress finish, so the journal ends clean and --resume has little to
// redo; a second one stops at once (still safe: every identity is journaled before its files).
export interface Interruption {
  /** The signal that asked the batch to stop, if any. */
  readonly signal: NodeJS.Signals | undefined;
  /** Exit status for it (128 + signal number, as a shell reports it). */
  readonly exitCode: number;
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

export function watchInterruption(onFirst: () => void): Interruption {
  let signal: (typeof SIGNALS)[number] | undefined;
  const handler = (s: (typeof SIGNALS)[number]) => {
    if (signal) process.exit(128 + SIGNAL_NUMBERS[s]);
    signal = s;
    onFirst();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get signal() {
      return signal;
    },
    get exitCode() {
      return signal ? 128 + SIGNAL_NUMBERS[signal] : 0;
    },
    dispose() {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
