// One direction of the serial line: a strict FIFO drained by a single timer chain, so bytes,
// "chip busy" pauses and "after sent" actions can never overtake each other (spec §16 item 0).
// With pacing on, byte i of a back-to-back burst completes at start + (i + 1) × 10 / baud seconds.
//
// Node's timers fire ≥ 1 ms late (often more under load), which alone would add a millisecond or
// two to every short exchange that a real line does not have (14 bytes take 0.15 ms at 921600).
// So the end of a transfer and the end of a "busy" pause are met exactly: the last stretch of a
// wait shorter than SPIN_BELOW_MS is run on setImmediate turns. Pieces in the middle of a long
// burst are still delivered on ordinary timers, about 1 ms at a time.

/** UART frame = start bit + 8 data bits + stop bit. */
export const BITS_PER_BYTE = 10;

/** Time in ms that `bytes` occupy the line at `baud`. */
export function wireTimeMs(bytes: number, baud: number): number {
  return (bytes * BITS_PER_BYTE * 1000) / baud;
}

/** Waits shorter than this are finished on setImmediate turns instead of a (late) timer. */
export const SPIN_BELOW_MS = 2;

/**
 * Calls `fn` at `at` (performance.now() time base) without the ≥ 1 ms lateness of a bare timer.
 * Returns a cancel function.
 */
export function callAt(at: number, fn: () => void, now: () => number = () => performance.now()): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let immediate: ReturnType<typeof setImmediate> | null = null;
  // Never calls `fn` synchronously: callers store the canceller before `fn` can run.
  const arm = () => {
    const wait = at - now();
    if (wait > SPIN_BELOW_MS) timer = setTimeout(step, wait - SPIN_BELOW_MS);
    else immediate = setImmediate(step);
  };
  const step = () => {
    timer = null;
    immediate = null;
    if (at - now() <= 0) fn();
    else arm();
  };
  arm();
  return () => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

/** How many whole bytes have completed `elapsedMs` after a burst started. */
export function bytesCompleted(elapsedMs: number, baud: number): number {
  if (elapsedMs <= 0) return 0;
  return Math.floor((elapsedMs * baud) / (BITS_PER_BYTE * 1000) + 1e-9);
}

type Item =
  | { kind: 'bytes'; bytes: Uint8Array; baud: number; rate: number; pos: number; start?: number }
  | { kind: 'delay'; ms: number; until?: number }
  | { kind: 'action'; fn: () => void };

export interface WireOptions {
  paced: boolean;
  /** Called with each delivered piece, tagged with the rate it was sent at. */
  deliver(bytes: Uint8Array, baud: number): void;
  /** Pacing rate for bytes tagged with `baud` (default: that baud). A USB-CDC link ignores the tag. */
  lineRate?: (baud: number) => number;
  now?: () => number;
}

export class Wire {
  private queue: Item[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private cancelAt: (() => void) | null = null;
  /** When the line finishes the last byte handed to it (pacing clock). */
  private lineFreeAt = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly opts: WireOptions) {
    this.now = opts.now ?? (() => performance.now());
  }

  get paced(): boolean {
    return this.opts.paced;
  }

  set paced(value: boolean) {
    this.opts.paced = value;
  }

  get pendingBytes(): number {
    let n = 0;
    for (const item of this.queue) if (item.kind === 'bytes') n += item.bytes.length - item.pos;
    return n;
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  send(bytes: Uint8Array, baud: number): void {
    if (bytes.length === 0) return;
    this.queue.push({ kind: 'bytes', bytes, baud, rate: this.opts.lineRate?.(baud) ?? baud, pos: 0 });
    this.kick();
  }

  delay(ms: number): void {
    if (ms > 0) {
      this.queue.push({ kind: 'delay', ms });
      this.kick();
    }
  }

  /** Runs `fn` once everything queued before it has been delivered. */
  then(fn: () => void): void {
    this.queue.push({ kind: 'action', fn });
    this.kick();
  }

  /** Resolves when the queue is empty. */
  whenIdle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops everything not yet delivered (reset, flush, unplug). */
  clear(): void {
    this.queue = [];
    this.cancelTimers();
    this.notifyIdle();
  }

  private kick(): void {
    if (this.timer || this.immediate || this.cancelAt) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.pump();
    });
  }

  private cancelTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.cancelAt?.();
    this.timer = null;
    this.immediate = null;
    this.cancelAt = null;
  }

  /** Coarse wake-up (pieces in the middle of a burst). */
  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }

  /** Exact wake-up at `at` (end of a transfer or of a busy pause). */
  private wakeAt(at: number): void {
    this.cancelAt = callAt(
      at,
      () => {
        this.cancelAt = null;
        this.pump();
      },
      this.now,
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const now = this.now();
      if (head.kind === 'action') {
        this.queue.shift();
        head.fn();
        continue;
      }
      if (head.kind === 'delay') {
        head.until ??= now + head.ms;
        if (now < head.until) return this.wakeAt(head.until);
        this.queue.shift();
        this.lineFreeAt = Math.max(this.lineFreeAt, head.until);
        continue;
      }
      if (!this.opts.paced) {
        this.queue.shift();
        this.opts.deliver(head.pos === 0 ? head.bytes : head.bytes.subarray(head.pos), head.baud);
        continue;
      }
      // Back-to-back bursts continue on the line clock; after idle time the burst starts now.
      head.start ??= Math.max(now, this.lineFreeAt) - wireTimeMs(head.pos, head.rate);
      const done = Math.min(head.bytes.length, bytesCompleted(now - head.start, head.rate));
      if (done > head.pos) {
        const piece = head.bytes.subarray(head.pos, done);
        head.pos = done;
        this.opts.deliver(piece, head.baud);
        if (this.queue[0] !== head) continue; // a delivery callback cleared the queue
      }
      if (head.pos < head.bytes.length) {
        // Near the end: wake exactly when the last byte is through; before that, about every ms.
        const endAt = head.start + wireTimeMs(head.bytes.length, head.rate);
        if (endAt - now <= SPIN_BELOW_MS) return this.wakeAt(endAt);
        return this.schedule(head.start + wireTimeMs(head.pos + 1, head.rate) - now);
      }
      this.queue.shift();
      this.lineFreeAt = head.start + wireTimeMs(head.bytes.length, head.rate);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/**
 * A fixed delay on delivered pieces, in order (a USB bridge's latency). The last piece of a burst
 * is delivered exactly on time; pieces with more behind them ride on ordinary timers.
 */
export class DelayLine {
  private queue: { at: number; deliver: () => void }[] = [];
  private cancel: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  push(delayMs: number, deliver: () => void): void {
    this.queue.push({ at: this.now() + delayMs, deliver });
    if (!this.cancel && !this.timer) this.arm();
  }

  clear(): void {
    this.queue = [];
    this.cancel?.();
    if (this.timer) clearTimeout(this.timer);
    this.cancel = null;
    this.timer = null;
  }

  private arm(): void {
    const head = this.queue[0];
    if (!head) return;
    const fire = () => {
      this.cancel = null;
      this.timer = null;
      const now = this.now();
      while (this.queue.length > 0 && this.queue[0].at <= now) this.queue.shift()!.deliver();
      this.arm();
    };
    if (this.queue.length > 1) this.timer = setTimeout(fire, Math.max(0, head.at - this.now()));
    else this.cancel = callAt(head.at, fire, this.now);
  }
}
