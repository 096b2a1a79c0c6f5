// The esptool-js Transport the station drives its chips through (esptool-js keeps the SLIP
// framing, commands and stub images). Two things are changed, both because of what they cost per
// command on a fast line:
//   * esptool-js's reader polls its buffer with a 1 ms sleep (≥ 1 ms, several under CPU load, on
//     every answer); here a waiting read wakes as soon as bytes arrive. Framing and errors
//     ("Invalid head of packet", "Serial data stream stopped", "No serial data received") are
//     the same as esptool-js 0.7.0's, so error mapping (errors.ts) is unchanged.
//   * it can be killed: a killed transport fails pending and future reads at once (the session
//     gave up on it, e.g. after an unplug or a cancel) and never touches the port again.
import { ESPError, Transport } from 'esptool-js';
import type { NodeSerialDevice } from './transport.ts';

const SLIP_END = 0xc0;
const SLIP_ESC = 0xdb;
const SLIP_ESC_END = 0xdc;
const SLIP_ESC_ESC = 0xdd;

/** esptool-js keeps these private; this subclass shares them with its base class. */
interface TransportInternals {
  buffer: Uint8Array;
  reader?: ReadableStreamDefaultReader<Uint8Array>;
}

export class StationTransport extends Transport {
  private dead = false;
  private wake: (() => void) | null = null;

  constructor(
    readonly serial: NodeSerialDevice,
    private readonly log: (line: string) => void,
  ) {
    super(serial as never, false);
  }

  private get internals(): TransportInternals {
    return this as unknown as TransportInternals;
  }

  override trace(message: string): void {
    this.log(`trace: ${message}`);
  }

  /** Moves received chunks into the buffer the readers take frames from, waking a waiting read. */
  override async readLoop(): Promise<void> {
    const internals = this.internals;
    while (this.serial.readable && !this.dead) {
      const reader = this.serial.readable.getReader();
      internals.reader = reader;
      try {
        const { value, done } = await reader.read();
        if (done) break;
        if (value && value.length > 0) {
          const joined = new Uint8Array(internals.buffer.length + value.length);
          joined.set(internals.buffer);
          joined.set(value, internals.buffer.length);
          internals.buffer = joined;
          this.notify();
        }
      } catch {
        break; // the port closed or vanished: the session learns it from the device
      } finally {
        reader.releaseLock();
      }
    }
    this.notify();
  }

  /** The next SLIP frame (without delimiters), as esptool-js's `read` returns it. */
  override async read(timeout: number): Promise<Uint8Array> {
    let partial: FrameBuilder | null = null;
    let escaping = false;
    for (;;) {
      const chunk = await this.take(timeout);
      if (chunk.length === 0) {
        throw new ESPError(partial === null ? 'Serial data stream stopped: Possible serial noise or corruption.' : 'No serial data received.');
      }
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i];
        if (partial === null) {
          if (byte !== SLIP_END) throw new ESPError(`Invalid head of packet (0x${byte.toString(16)}): Possible serial noise or corruption.`);
          partial = new FrameBuilder();
        } else if (escaping) {
          escaping = false;
          if (byte === SLIP_ESC_END) partial.push(SLIP_END);
          else if (byte === SLIP_ESC_ESC) partial.push(SLIP_ESC);
          else throw new ESPError(`Invalid SLIP escape (0xdb, 0x${byte.toString(16)})`);
        } else if (byte === SLIP_ESC) {
          escaping = true;
        } else if (byte === SLIP_END) {
          // Whatever followed the frame goes back in front of the buffer.
          if (i + 1 < chunk.length) {
            const rest = chunk.subarray(i + 1);
            const joined = new Uint8Array(rest.length + this.internals.buffer.length);
            joined.set(rest);
            joined.set(this.internals.buffer, rest.length);
            this.internals.buffer = joined;
          }
          return partial.bytes();
        } else {
          partial.push(byte);
        }
      }
    }
  }

  /** Makes any pending and future read fail at once. */
  kill(): void {
    this.dead = true;
    this.internals.buffer = Uint8Array.of(0); // a non-SLIP byte ends a pending read
    this.notify();
  }

  /** Everything buffered, waiting up to `timeout` ms for the first byte; empty on timeout. */
  private async take(timeout: number): Promise<Uint8Array> {
    const deadline = Date.now() + timeout;
    while (this.internals.buffer.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || this.dead) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    if (this.dead) throw new ESPError('port closed');
    const chunk = this.internals.buffer;
    this.internals.buffer = new Uint8Array(0);
    return chunk;
  }

  private notify(): void {
    this.wake?.();
  }
}

/** A frame being unescaped: a byte array that doubles when full. */
class FrameBuilder {
  private data = new Uint8Array(64);
  private length = 0;
  push(byte: number): void {
    if (this.length === this.data.length) {
      const bigger = new Uint8Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = byte;
  }
  bytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }
}
