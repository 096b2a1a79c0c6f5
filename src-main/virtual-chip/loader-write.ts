// FLASH_BEGIN / FLASH_DATA / FLASH_END and their compressed twins (spec §11), for the loader
// engine: where the bytes land, the ROM-versus-stub differences (erase before answering vs while
// data streams, program before vs after the acknowledgement, 4 vs 2 status bytes, deferred
// errors), and what each step costs in chip time (timing.ts).
import { Inflate } from 'pako';
import { FlashRangeError, type NorFlash } from './flash-model.ts';
import { eraseMs, romEraseWork, stubWriteEraseWork, type ChipTiming } from './timing.ts';
import { u32 } from './protocol.ts';

/** Failure kinds the write path can report (mapped to ROM / stub codes by the engine). */
export type WriteErr = 'badLength' | 'badBlockSize' | 'spiFailed' | 'notInMode' | 'inflate' | 'tooMuchData';

/** What the write path needs from the engine. */
export interface WriteHost {
  readonly semantics: 'rom' | 'stub';
  readonly timing: ChipTiming;
  reply(op: number): void;
  fail(op: number, err: WriteErr): void;
  /** Chip busy for `ms` (unscaled): everything queued later waits. */
  busy(ms: number): void;
  /** Checks the `len, seq, 0, 0, data` layout and the checksum; null after answering an error. */
  dataBlock(op: number, data: Uint8Array, chk: number): { seq: number; bytes: Uint8Array } | null;
  /** Stub: an error found after the block was acknowledged, reported on the next command. */
  defer(err: WriteErr): void;
  /** Fault injection on the way into flash. */
  transformWrite?(offset: number, data: Uint8Array): Uint8Array;
  /** ROM FLASH_END with flag 0: leave the loader once the answer is out. */
  rebootAfterAnswer(): void;
}

interface WriteSession {
  compressed: boolean;
  offset: number;
  /** ROM: bytes to erase; stub: bytes the host will program (uncompressed). */
  size: number;
  blockSize: number;
  /** Bytes programmed sequentially so far (stub; ROM inflate). */
  written: number;
  inflater?: Inflate;
  inflateOutput?: Uint8Array[];
}

export class FlashWritePath {
  private session: WriteSession | null = null;

  constructor(
    private readonly host: WriteHost,
    private readonly flash: NorFlash,
  ) {}

  reset(): void {
    this.session = null;
  }

  begin(op: number, data: Uint8Array, compressed: boolean): void {
    const { host } = this;
    if (data.length !== 16 && data.length !== 20) return host.fail(op, 'badLength');
    const size = u32(data, 0);
    const blockSize = u32(data, 8);
    const offset = u32(data, 12);
    if (blockSize === 0 && size > 0) return host.fail(op, 'badBlockSize');
    if (offset + size > this.flash.size) return host.fail(op, 'spiFailed');
    this.session = { compressed, offset, size, blockSize, written: 0 };
    if (compressed) this.startInflater(this.session);
    if (host.semantics === 'rom') {
      // The ROM erases the whole range first, blank or not, and answers afterwards.
      const ms = eraseMs(romEraseWork(offset, size), host.timing);
      this.flash.erase(offset, size);
      host.busy(ms);
      host.reply(op);
    } else {
      // The stub answers at once and erases as the data arrives, skipping leading blank sectors.
      const ms = eraseMs(stubWriteEraseWork(offset, size, (s) => this.flash.isSectorBlank(s)), host.timing);
      this.flash.erase(offset, size);
      host.reply(op);
      host.busy(ms);
    }
  }

  data(op: number, data: Uint8Array, chk: number, compressed: boolean): void {
    const { host } = this;
    const session = this.session;
    if (!session || session.compressed !== compressed) return host.fail(op, 'notInMode');
    const block = host.dataBlock(op, data, chk);
    if (!block) return;
    const parts = compressed ? this.inflate(op, session, block.bytes) : this.place(session, block);
    if (!parts) return;
    let bytes = 0;
    try {
      for (const part of parts) {
        const stored = host.transformWrite?.(part.offset, part.bytes) ?? part.bytes;
        this.flash.program(part.offset, stored);
        bytes += part.bytes.length;
      }
    } catch (err) {
      if (err instanceof FlashRangeError) return this.programFailure(op, 'spiFailed');
      throw err;
    }
    const programMs = bytes / host.timing.programBytesPerMs;
    if (host.semantics === 'rom') {
      host.busy(programMs); // the ROM programs the block before it answers
      host.reply(op);
    } else {
      host.reply(op); // the stub answers at once and programs while the next block is in transit
      host.busy(programMs);
    }
  }

  end(op: number, data: Uint8Array): void {
    const { host } = this;
    if (data.length !== 4) return host.fail(op, 'badLength');
    const reboot = u32(data, 0) === 0;
    const session = this.session;
    if (host.semantics === 'stub') {
      if (!session) return host.fail(op, 'notInMode');
      this.session = null;
      if (session.written < session.size) return host.fail(op, 'badLength'); // spec §8: C0
      // The current stub ignores the reboot flag and keeps running (spec §8).
      return host.reply(op);
    }
    this.session = null;
    host.reply(op);
    if (reboot) host.rebootAfterAnswer();
  }

  private startInflater(session: WriteSession): void {
    const inflater = new Inflate();
    session.inflateOutput = [];
    inflater.onData = (chunk: Uint8Array) => session.inflateOutput!.push(chunk);
    session.inflater = inflater;
  }

  /** Compressed data: the blocks form one zlib stream, programmed sequentially from the offset. */
  private inflate(op: number, session: WriteSession, bytes: Uint8Array): { offset: number; bytes: Uint8Array }[] | null {
    const inflater = session.inflater!;
    inflater.push(bytes, false);
    if (inflater.err) {
      this.programFailure(op, 'inflate');
      return null;
    }
    const parts = [];
    for (const chunk of session.inflateOutput!.splice(0)) {
      parts.push({ offset: session.offset + session.written, bytes: chunk });
      session.written += chunk.length;
    }
    if (this.host.semantics === 'stub' && session.written > session.size) {
      this.programFailure(op, 'tooMuchData');
      return null;
    }
    return parts;
  }

  /** Plain data: the ROM places a block by its sequence number (padding included); the stub writes sequentially up to the announced size. */
  private place(session: WriteSession, block: { seq: number; bytes: Uint8Array }): { offset: number; bytes: Uint8Array }[] {
    if (this.host.semantics === 'rom') {
      const offset = session.offset + block.seq * session.blockSize;
      const len = Math.max(0, Math.min(block.bytes.length, this.flash.size - offset));
      return [{ offset, bytes: block.bytes.subarray(0, len) }];
    }
    const len = Math.min(block.bytes.length, session.size - session.written);
    const part = { offset: session.offset + session.written, bytes: block.bytes.subarray(0, len) };
    session.written += len;
    return [part];
  }

  /** ROM: fail this command; stub: the block was already acknowledged, so report on the next command. */
  private programFailure(op: number, err: WriteErr): void {
    if (this.host.semantics === 'rom') return this.host.fail(op, err);
    this.host.reply(op);
    this.host.defer(err);
  }
}
