// Reading flash back for the loader engine (spec §12): SPI_FLASH_MD5 (ROM: 32 ASCII hex
// characters, stub: 16 raw bytes), the ESP32-family ROM's READ_FLASH_SLOW (64 bytes per round
// trip) and the stub's streamed READ_FLASH (one packet in flight, each acknowledged by the host
// with a running total, then a raw MD5 frame). Chip time comes from timing.ts.
import { createHash } from 'node:crypto';
import type { NorFlash } from './flash-model.ts';
import type { ChipTiming } from './timing.ts';
import { u32 } from './protocol.ts';

export type ReadErr = 'badLength' | 'badBlockSize' | 'spiFailed';

/** What the read path needs from the engine. */
export interface ReadHost {
  readonly semantics: 'rom' | 'stub';
  readonly timing: ChipTiming;
  reply(op: number, value: number, payload: Uint8Array): void;
  fail(op: number, err: ReadErr): void;
  /** Chip busy for `ms` (unscaled). */
  busy(ms: number): void;
  /** A raw SLIP frame without the response header (READ_FLASH data and digest). */
  frame(payload: Uint8Array): void;
}

interface ReadSession {
  offset: number;
  length: number;
  packetSize: number;
  sent: number;
  md5: ReturnType<typeof createHash>;
}

export class FlashReadPath {
  private session: ReadSession | null = null;

  constructor(
    private readonly host: ReadHost,
    private readonly flash: NorFlash,
  ) {}

  /** True while a READ_FLASH transfer waits for the host's acknowledgements. */
  get streaming(): boolean {
    return this.session !== null;
  }

  reset(): void {
    this.session = null;
  }

  md5(op: number, data: Uint8Array): void {
    const { host } = this;
    if (data.length < 8) return host.fail(op, 'badLength');
    const addr = u32(data, 0);
    const size = u32(data, 4);
    if (addr + size > this.flash.size) return host.fail(op, 'spiFailed');
    const digest = createHash('md5').update(this.flash.bytes.subarray(addr, addr + size)).digest();
    host.busy(size / host.timing.md5BytesPerMs);
    if (host.semantics === 'stub') return host.reply(op, 0, new Uint8Array(digest));
    host.reply(op, 0, new TextEncoder().encode(digest.toString('hex')));
  }

  readSlow(op: number, data: Uint8Array): void {
    const { host } = this;
    if (data.length !== 8) return host.fail(op, 'badLength');
    const addr = u32(data, 0);
    const len = u32(data, 4);
    if (len > 64 || addr + len > this.flash.size) return host.fail(op, 'badLength');
    const payload = new Uint8Array(64);
    payload.set(this.flash.bytes.subarray(addr, Math.min(this.flash.size, addr + 64)));
    host.busy(64 / host.timing.readBytesPerMs);
    host.reply(op, 0, payload);
  }

  readStream(op: number, data: Uint8Array): void {
    const offset = u32(data, 0);
    const length = u32(data, 4);
    const packetSize = u32(data, 8);
    if (packetSize === 0 || packetSize > 0x10000) return this.host.fail(op, 'badBlockSize');
    if (offset + length > this.flash.size) return this.host.fail(op, 'spiFailed');
    this.host.reply(op, 0, new Uint8Array(0));
    this.session = { offset, length, packetSize, sent: 0, md5: createHash('md5') };
    this.sendPacket();
  }

  /** A frame that arrived during a transfer: a 4-byte running total, or anything else (the host gave up). */
  onFrame(frame: Uint8Array): boolean {
    if (frame.length !== 4) {
      this.session = null;
      return false;
    }
    const r = this.session!;
    const total = u32(frame, 0);
    // The stub keeps one packet in flight: the next one goes out only after the host confirmed.
    if (total < r.sent) return true;
    if (r.sent < r.length) {
      this.sendPacket();
      return true;
    }
    this.session = null;
    this.host.frame(new Uint8Array(r.md5.digest()));
    return true;
  }

  private sendPacket(): void {
    const r = this.session!;
    const n = Math.min(r.packetSize, r.length - r.sent);
    const chunk = this.flash.bytes.slice(r.offset + r.sent, r.offset + r.sent + n);
    r.md5.update(chunk);
    r.sent += n;
    this.host.busy(n / this.host.timing.readBytesPerMs);
    this.host.frame(chunk);
  }
}
