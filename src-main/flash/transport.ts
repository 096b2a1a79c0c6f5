// A Web-Serial-shaped device over node-serialport, which is what esptool-js 0.7.0's `Transport`
// drives: getInfo(), open({baudRate}), close(), readable / writable WHATWG streams (new ones on
// every open, null while closed), setSignals({dataTerminalReady, requestToSend, break}) that only
// changes the named lines, and setBaudRate() so the baud change happens without a reopen.
//
// serialport's `set()` resets every line it is not given (DTR and RTS default to on), so both lines
// are tracked here and always sent together. It also keeps what the flasher needs to know about the
// line itself: whether it has modem lines at all (a pty has none), the recent text (boot banners)
// and how long the bytes that crossed it occupied the wire at the rate in use.
import type { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { normalizeUsbId } from './usb-ids.ts';

export interface UsbInfo {
  usbVendorId?: number;
  usbProductId?: number;
}

export interface WebSerialSignals {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
  break?: boolean;
}

/** How much of the most recent input is kept for diagnostics (boot banners). */
const RX_TAIL_BYTES = 4096;
/** UART frame: start bit, 8 data bits, stop bit. */
const BITS_PER_BYTE = 10;

/** Bytes that crossed the line, and the time they occupied it at the rate in use (10 bits per byte). */
export interface WireStats {
  bytesToChip: number;
  bytesFromChip: number;
  /** Σ bytes × 10 / baud, both directions: the least time these bytes could take on this line. */
  floorMs: number;
}

export class NodeSerialDevice {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  /** Current line state as last set (after open both are on: POSIX ttys raise them). */
  readonly lines = { dtr: false, rts: false, brk: false };
  /** Set when the port went away underneath us (unplug). */
  lost: Error | null = null;
  lastRxAt = 0;
  lastTxAt = 0;
  rxBytes = 0;
  txBytes = 0;
  /** When the host started waiting for an answer (first write since the last received byte). */
  awaitingSince: number | null = null;
  private rxTail = new Uint8Array(0);
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private lostListeners: ((err: Error) => void)[] = [];
  private rxListeners = new Set<() => void>();
  private dataListeners = new Set<(bytes: Uint8Array) => void>();
  private wireMs = 0;

  constructor(
    readonly port: SerialPortStream,
    private readonly info: UsbInfo = {},
  ) {
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => this.onClose(err));
    // Without an 'error' listener a failed write would crash the process; errors surface elsewhere.
    port.on('error', () => {});
  }

  get path(): string {
    return this.port.path;
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  getInfo(): UsbInfo {
    return { ...this.info };
  }

  /** Last bytes received (what the chip printed, e.g. a boot banner), as latin-1 text. */
  recentText(): string {
    return Array.from(this.rxTail, (b) => String.fromCharCode(b)).join('');
  }

  /** Wire accounting since the port was created. */
  get wire(): WireStats {
    return { bytesToChip: this.txBytes, bytesFromChip: this.rxBytes, floorMs: this.wireMs };
  }

  /** Text received after `mark` (a value of `rxBytes`), as far as the kept tail reaches. */
  textSince(mark: number): string {
    const n = Math.min(this.rxBytes - mark, this.rxTail.length);
    return n <= 0 ? '' : Array.from(this.rxTail.subarray(this.rxTail.length - n), (b) => String.fromCharCode(b)).join('');
  }

  /**
   * Resolves true as soon as the text received after `mark` matches `pattern`, false after
   * `timeoutMs` (or when `signal` aborts). Event-driven: no polling interval to wait out.
   */
  waitForText(pattern: RegExp, mark: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.rxListeners.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const check = () => {
        if (pattern.test(this.textSince(mark))) done(true);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.rxListeners.add(check);
      check();
    });
  }

  /** Every chunk received from now on (a firmware's console); returns the unsubscribe function. */
  subscribe(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  /**
   * False when the device has no modem lines (DTR/RTS cannot be read or set: a pty, some adapters,
   * remote serial): reading the line state is side-effect free, setting it would move EN / IO0.
   */
  async hasModemLines(): Promise<boolean> {
    try {
      await new Promise<void>((resolve, reject) => this.port.get((err) => (err ? reject(err) : resolve())));
      return true;
    } catch (err) {
      if (isNoModemLinesError(err)) return false;
      throw err;
    }
  }

  /** Resolves never; rejects with the disconnect error if the port goes away. */
  whenLost(): Promise<never> {
    return new Promise((_, reject) => {
      if (this.lost) reject(this.lost);
      else this.lostListeners.push(reject);
    });
  }

  async open(options: { baudRate?: number } = {}): Promise<void> {
    if (!this.port.isOpen) {
      await new Promise<void>((resolve, reject) => this.port.open((err) => (err ? reject(err) : resolve())));
      this.lines.dtr = true;
      this.lines.rts = true;
      this.lines.brk = false;
    }
    if (options.baudRate && this.port.baudRate !== options.baudRate) await this.setBaudRate(options.baudRate);
    this.makeStreams();
  }

  async close(): Promise<void> {
    this.endStreams();
    if (this.port.isOpen) {
      await new Promise<void>((resolve) => this.port.close(() => resolve()));
    }
  }

  async setSignals(signals: WebSerialSignals): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend;
    if (signals.break !== undefined) this.lines.brk = signals.break;
    const { dtr, rts, brk } = this.lines;
    await new Promise<void>((resolve, reject) =>
      this.port.set({ dtr, rts, brk }, (err) => (err ? reject(err) : resolve())),
    );
  }

  async setBaudRate(baudRate: number): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.port.update({ baudRate }, (err) => (err ? reject(err) : resolve())),
    );
  }

  private makeStreams(): void {
    this.endStreams();
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.controller = null;
      },
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (!this.port.isOpen) return reject(new Error('Port is not open'));
          this.lastTxAt = Date.now();
          this.awaitingSince ??= this.lastTxAt;
          this.txBytes += chunk.length;
          this.wireMs += (chunk.length * BITS_PER_BYTE * 1000) / this.port.baudRate;
          this.port.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), (err) =>
            err ? reject(err) : resolve(),
          );
        }),
    });
  }

  private endStreams(): void {
    if (this.controller) {
      try {
        this.controller.close();
      } catch {
        // already closed or errored
      }
    }
    this.controller = null;
    this.readable = null;
    this.writable = null;
  }

  private onData(chunk: Buffer): void {
    this.lastRxAt = Date.now();
    this.awaitingSince = null;
    this.rxBytes += chunk.length;
    this.wireMs += (chunk.length * BITS_PER_BYTE * 1000) / this.port.baudRate;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice();
    const tail = new Uint8Array(Math.min(RX_TAIL_BYTES, this.rxTail.length + bytes.length));
    const keepOld = tail.length - Math.min(bytes.length, tail.length);
    tail.set(this.rxTail.subarray(this.rxTail.length - keepOld), 0);
    tail.set(bytes.subarray(bytes.length - (tail.length - keepOld)), keepOld);
    this.rxTail = tail;
    this.controller?.enqueue(bytes);
    for (const listener of [...this.rxListeners]) listener();
    for (const listener of [...this.dataListeners]) listener(bytes);
  }

  private onClose(err: (Error & { disconnected?: boolean }) | null): void {
    this.endStreams();
    if (err && err.disconnected) {
      this.lost = err;
      const listeners = this.lostListeners;
      this.lostListeners = [];
      for (const l of listeners) l(err);
    }
  }
}

/** The error a tty driver gives for modem-line ioctls it does not support (Linux: ENOTTY). */
export function isNoModemLinesError(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /Inappropriate ioctl|ENOTTY|not supported|EINVAL/i.test(text);
}

/** Finds the USB vendor / product id of `path` in its binding's port list (undefined if absent). */
export async function lookupUsbInfo(binding: Pick<BindingInterface, 'list'>, path: string): Promise<UsbInfo> {
  try {
    const entry = (await binding.list()).find((p) => p.path === path);
    const vid = normalizeUsbId(entry?.vendorId);
    const pid = normalizeUsbId(entry?.productId);
    return {
      usbVendorId: vid ? parseInt(vid, 16) : undefined,
      usbProductId: pid ? parseInt(pid, 16) : undefined,
    };
  } catch {
    return {};
  }
}
