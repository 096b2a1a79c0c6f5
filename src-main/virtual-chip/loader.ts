// The download-mode protocol engine: ROM bootloader and flasher-stub semantics (spec §3–§13).
// It is independent of any transport: it consumes decoded SLIP frames and emits frames, "busy"
// periods and "after the wire is clear" actions through `LoaderOutput`, which the chip model
// turns into paced bytes. The serialport binding and the pty server both reuse it via VirtualChip.
import { createHash } from 'node:crypto';
import { Inflate } from 'pako';
import { FlashRangeError, type NorFlash, SECTOR_SIZE } from './flash-model.ts';
import type { ChipProfile } from './profiles.ts';
import type { RegisterFile } from './registers.ts';

export const OP = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  READ_FLASH_SLOW: 0x0e,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_FLASH: 0xd0,
  ERASE_REGION: 0xd1,
  READ_FLASH: 0xd2,
  RUN_USER_CODE: 0xd3,
} as const;

export const SYNC_VALUE = 0x20120707;
const CHECKSUM_SEED = 0xef;
const EMPTY = new Uint8Array(0);
const OHAI = new TextEncoder().encode('OHAI');

/** Failure kinds with their ROM error code and stub status code (spec §3.3). */
const ERR = {
  badLength: { rom: 0x05, stub: 0xc0 },
  checksum: { rom: 0x07, stub: 0xc1 },
  badBlockSize: { rom: 0x05, stub: 0xc2 },
  invalidCommand: { rom: 0x05, stub: 0xc3 },
  spiFailed: { rom: 0x08, stub: 0xc4 },
  notInMode: { rom: 0x05, stub: 0xc6 },
  inflate: { rom: 0x0b, stub: 0xc7 },
  notEnoughData: { rom: 0x05, stub: 0xc8 },
  tooMuchData: { rom: 0x05, stub: 0xc9 },
  notImplemented: { rom: 0x05, stub: 0xff },
} as const;
type ErrKind = keyof typeof ERR;

/** Chip-side processing times (datasheet-class figures, spec §15); multiplied by `timingScale`. */
export interface ChipTiming {
  sectorEraseMs: number;
  chipEraseMsPerMiB: number;
  programBytesPerMs: number;
  md5BytesPerMs: number;
  stubStartMs: number;
}

export const DATASHEET_TIMING: ChipTiming = {
  sectorEraseMs: 45,
  chipEraseMsPerMiB: 3000,
  programBytesPerMs: 400,
  md5BytesPerMs: 8000,
  stubStartMs: 3,
};

/** How the ROM answers a command it does not implement (spec §3.4; the real opcode field is unverified). */
export type UnsupportedReplyStyle = 'previous-opcode' | 'echo';

export interface LoaderOutput {
  /** Queue one SLIP frame (unescaped payload). */
  frame(payload: Uint8Array): void;
  /** The chip is busy for `ms`: everything queued later waits. */
  busy(ms: number): void;
  /** Run `fn` once everything queued so far has left the wire. */
  afterSent(fn: () => void): void;
  /** Switch the UART to a new rate (called once the CHANGE_BAUDRATE answer has left). */
  setUartBaud(baud: number): void;
  /** Leave the loader and boot from flash (ROM FLASH_END/MEM_END with flag 0). */
  bootFirmware(): void;
  /** Jumped into nowhere: go silent until reset. */
  crash(): void;
}

export interface LoaderHooks {
  /** Lets fault injection alter bytes on their way into flash. */
  transformWrite?(offset: number, data: Uint8Array): Uint8Array;
}

interface WriteSession {
  compressed: boolean;
  offset: number;
  /** Bytes the host announced it will program (uncompressed). */
  size: number;
  blockSize: number;
  numBlocks: number;
  /** Bytes programmed sequentially so far (stub; ROM inflate). */
  written: number;
  inflater?: Inflate;
  inflateOutput?: Uint8Array[];
}

interface ReadSession {
  offset: number;
  length: number;
  packetSize: number;
  sent: number;
  md5: ReturnType<typeof createHash>;
}

interface RamSegment {
  addr: number;
  data: Uint8Array;
  blockSize: number;
}

const u32 = (d: Uint8Array, at: number) => (d[at] | (d[at + 1] << 8) | (d[at + 2] << 16) | (d[at + 3] << 24)) >>> 0;
const u16 = (d: Uint8Array, at: number) => d[at] | (d[at + 1] << 8);

function le32(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
}

function checksum(data: Uint8Array): number {
  let c = CHECKSUM_SEED;
  for (const b of data) c ^= b;
  return c;
}

export interface LoaderEngineOptions {
  timing: ChipTiming;
  timingScale: number;
  unsupportedReply: UnsupportedReplyStyle;
  hooks?: LoaderHooks;
}

export class LoaderEngine {
  /** 'rom' until a stub was uploaded and started. */
  semantics: 'rom' | 'stub' = 'rom';
  /** Stub image seen at the last MEM_END (for inspection/logging). */
  stubImage: { entry: number; textStart: number; textLength: number } | null = null;
  /** Size declared by SPI_SET_PARAMS, if any. */
  declaredFlashSize: number | null = null;
  /** Count of commands handled, by opcode (inspection). */
  readonly commandCounts = new Map<number, number>();

  private lastResponseOp = 0x00;
  private ram: RamSegment[] = [];
  private currentRam: RamSegment | null = null;
  private write: WriteSession | null = null;
  private read: ReadSession | null = null;
  private pendingError: ErrKind | null = null;

  constructor(
    private readonly profile: ChipProfile,
    private readonly flash: NorFlash,
    private readonly regs: RegisterFile,
    private readonly out: LoaderOutput,
    private readonly opts: LoaderEngineOptions,
  ) {}

  /** Back to a fresh ROM after a reset. */
  reset(): void {
    this.semantics = 'rom';
    this.stubImage = null;
    this.declaredFlashSize = null;
    this.lastResponseOp = 0;
    this.ram = [];
    this.currentRam = null;
    this.write = null;
    this.read = null;
    this.pendingError = null;
  }

  handleFrame(frame: Uint8Array): void {
    if (this.read) {
      // During a stub READ_FLASH the host answers each data packet with a 4-byte running total.
      if (frame.length === 4) return this.onReadAck(u32(frame, 0));
      this.read = null; // the host gave up on the transfer
    }
    if (frame.length < 8) return; // too short to be a request: noise
    const direction = frame[0];
    const op = frame[1];
    const size = u16(frame, 2);
    const chk = u32(frame, 4);
    const data = frame.subarray(8);
    this.commandCounts.set(op, (this.commandCounts.get(op) ?? 0) + 1);
    if (this.semantics === 'stub') {
      if (direction !== 0) return this.fail(op, 'invalidCommand');
      if (data.length !== size) return this.fail(op, 'badLength');
      if (this.pendingError) {
        // Errors found while programming an already-acknowledged block surface on the next command.
        const err = this.pendingError;
        this.pendingError = null;
        return this.fail(op, err);
      }
      return this.stubCommand(op, data, chk);
    }
    if (direction !== 0) return;
    if (data.length !== size) return this.fail(op, 'badLength');
    return this.romCommand(op, data, chk);
  }

  // ---------------------------------------------------------------- responses

  private reply(op: number, value = 0, payload: Uint8Array = EMPTY, err?: ErrKind): void {
    const stub = this.semantics === 'stub';
    const statusLen = stub ? 2 : 4;
    const pkt = new Uint8Array(8 + payload.length + statusLen);
    pkt[0] = 0x01;
    pkt[1] = op;
    pkt[2] = (payload.length + statusLen) & 0xff;
    pkt[3] = (payload.length + statusLen) >> 8;
    pkt.set(le32(value), 4);
    pkt.set(payload, 8);
    if (err) {
      const at = 8 + payload.length;
      if (stub) {
        pkt[at] = ERR[err].stub; // big-endian 16-bit code: high byte first, low byte 0
      } else {
        pkt[at] = 0x01;
        pkt[at + 1] = ERR[err].rom;
      }
    }
    this.lastResponseOp = op;
    this.out.frame(pkt);
  }

  private fail(op: number, err: ErrKind): void {
    this.reply(op, 0, EMPTY, err);
  }

  /** The ROM's answer to an opcode it lacks: an error frame repeated 8 times, opcode differing from the request. */
  private unsupported(op: number): void {
    let replyOp = op;
    if (this.opts.unsupportedReply === 'previous-opcode') {
      replyOp = this.lastResponseOp === op ? 0x00 : this.lastResponseOp;
    }
    const pkt = new Uint8Array([0x01, replyOp, 0x04, 0x00, 0, 0, 0, 0, 0x01, ERR.invalidCommand.rom, 0, 0]);
    for (let i = 0; i < 8; i++) this.out.frame(pkt);
  }

  private busy(ms: number): void {
    const scaled = ms * this.opts.timingScale;
    if (scaled > 0) this.out.busy(scaled);
  }

  // ---------------------------------------------------------------- ROM

  private romCommand(op: number, data: Uint8Array, chk: number): void {
    switch (op) {
      case OP.SYNC: return this.sync(op, data, SYNC_VALUE);
      case OP.READ_REG: return this.readReg(op, data);
      case OP.WRITE_REG: return this.writeReg(op, data);
      case OP.MEM_BEGIN: return this.memBegin(op, data);
      case OP.MEM_DATA: return this.memData(op, data, chk);
      case OP.MEM_END: return this.memEnd(op, data);
      case OP.SPI_ATTACH: return this.spiAttach(op, data);
      case OP.SPI_SET_PARAMS: return this.spiSetParams(op, data);
      case OP.CHANGE_BAUDRATE: return this.changeBaud(op, data);
      case OP.FLASH_BEGIN: return this.flashBegin(op, data, false);
      case OP.FLASH_DEFL_BEGIN: return this.flashBegin(op, data, true);
      case OP.FLASH_DATA: return this.flashData(op, data, chk, false);
      case OP.FLASH_DEFL_DATA: return this.flashData(op, data, chk, true);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: return this.flashEnd(op, data);
      case OP.SPI_FLASH_MD5: return this.md5(op, data);
      case OP.GET_SECURITY_INFO:
        if (this.profile.securityChipId === null) return this.unsupported(op);
        return this.reply(op, 0, this.securityInfo());
      case OP.READ_FLASH_SLOW:
        if (!this.profile.romReadFlashSlow) return this.unsupported(op);
        return this.readFlashSlow(op, data);
      default: return this.unsupported(op);
    }
  }

  // ---------------------------------------------------------------- stub

  private stubCommand(op: number, data: Uint8Array, chk: number): void {
    switch (op) {
      case OP.SYNC: return this.sync(op, data, 0);
      case OP.READ_REG: return data.length === 4 ? this.readReg(op, data) : this.fail(op, 'badLength');
      case OP.WRITE_REG: return this.writeReg(op, data);
      case OP.MEM_BEGIN: return this.memBegin(op, data);
      case OP.MEM_DATA: return this.memData(op, data, chk);
      case OP.MEM_END: return data.length === 8 ? this.memEnd(op, data) : this.fail(op, 'badLength');
      case OP.SPI_ATTACH: return this.spiAttach(op, data);
      case OP.SPI_SET_PARAMS: return this.spiSetParams(op, data);
      case OP.CHANGE_BAUDRATE: return data.length === 8 ? this.changeBaud(op, data) : this.fail(op, 'badLength');
      case OP.FLASH_BEGIN: return this.flashBegin(op, data, false);
      case OP.FLASH_DEFL_BEGIN: return this.flashBegin(op, data, true);
      case OP.FLASH_DATA: return this.flashData(op, data, chk, false);
      case OP.FLASH_DEFL_DATA: return this.flashData(op, data, chk, true);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: return this.flashEnd(op, data);
      case OP.SPI_FLASH_MD5: return data.length === 16 ? this.md5(op, data) : this.fail(op, 'badLength');
      case OP.GET_SECURITY_INFO:
        if (this.profile.securityChipId === null) return this.fail(op, 'notImplemented');
        return this.reply(op, 0, this.securityInfo());
      case OP.ERASE_FLASH: return this.eraseFlash(op);
      case OP.ERASE_REGION: return data.length === 8 ? this.eraseRegion(op, data) : this.fail(op, 'badLength');
      case OP.READ_FLASH: return data.length === 16 ? this.readFlash(op, data) : this.fail(op, 'badLength');
      case OP.RUN_USER_CODE: return; // no answer, no effect (spec §8)
      default: return this.fail(op, 'invalidCommand');
    }
  }

  // ---------------------------------------------------------------- commands shared by ROM and stub

  private sync(op: number, data: Uint8Array, value: number): void {
    // The ROM uses the 0x55 run to measure the bit rate; anything else is not a SYNC it recognises.
    if (data.length < 4 || u32(data, 0) !== SYNC_VALUE) return;
    for (let i = 0; i < 8; i++) this.reply(op, value);
  }

  private readReg(op: number, data: Uint8Array): void {
    if (data.length < 4) return this.fail(op, 'badLength');
    this.reply(op, this.regs.read(u32(data, 0)));
  }

  private writeReg(op: number, data: Uint8Array): void {
    if (data.length === 0 || data.length % 16 !== 0) return this.fail(op, 'badLength');
    let delayUs = 0;
    for (let at = 0; at < data.length; at += 16) {
      this.regs.write(u32(data, at), u32(data, at + 4), u32(data, at + 8));
      delayUs += u32(data, at + 12);
    }
    this.busy(delayUs / 1000);
    this.reply(op);
  }

  private memBegin(op: number, data: Uint8Array): void {
    if (data.length !== 16) return this.fail(op, 'badLength');
    const size = u32(data, 0);
    const blockSize = u32(data, 8);
    const addr = u32(data, 12);
    if (size > 0x80000 || blockSize === 0) return this.fail(op, 'badBlockSize');
    this.currentRam = { addr, data: new Uint8Array(size), blockSize };
    this.ram.push(this.currentRam);
    this.reply(op);
  }

  private memData(op: number, data: Uint8Array, chk: number): void {
    const seg = this.currentRam;
    if (!seg) return this.fail(op, 'notInMode');
    const block = this.dataBlock(op, data, chk);
    if (!block) return;
    const at = block.seq * seg.blockSize;
    if (at + block.bytes.length > seg.data.length) return this.fail(op, 'tooMuchData');
    seg.data.set(block.bytes, at);
    this.reply(op);
  }

  private memEnd(op: number, data: Uint8Array): void {
    if (data.length < 8) return this.fail(op, 'badLength');
    const stay = u32(data, 0) !== 0;
    const entry = u32(data, 4);
    this.currentRam = null;
    this.reply(op);
    if (stay) return;
    const text = this.ram.find((s) => entry >= s.addr && entry < s.addr + s.data.length);
    if (!text) {
      // A real chip would jump into garbage; it never answers again until reset.
      this.out.afterSent(() => this.out.crash());
      return;
    }
    // Uploaded code at the entry point is taken to be a flasher stub: it starts, greets, and from
    // then on speaks stub semantics. The greeting is queued strictly after the MEM_END answer.
    this.stubImage = { entry, textStart: text.addr, textLength: text.data.length };
    this.ram = [];
    this.write = null;
    this.busy(this.opts.timing.stubStartMs);
    this.semantics = 'stub';
    this.out.frame(OHAI);
  }

  private spiAttach(op: number, data: Uint8Array): void {
    if (data.length !== 4 && data.length !== 8) return this.fail(op, 'badLength');
    this.reply(op);
  }

  private spiSetParams(op: number, data: Uint8Array): void {
    if (data.length !== 24) return this.fail(op, 'badLength');
    this.declaredFlashSize = u32(data, 4);
    this.reply(op);
  }

  private changeBaud(op: number, data: Uint8Array): void {
    if (data.length < 8) return this.fail(op, 'badLength');
    const baud = u32(data, 0);
    if (baud < 300 || baud > 5_000_000) return this.fail(op, 'badLength');
    this.reply(op);
    // The answer still goes out at the old rate; the UART switches once it has left.
    this.out.afterSent(() => this.out.setUartBaud(baud));
  }

  private flashBegin(op: number, data: Uint8Array, compressed: boolean): void {
    if (data.length !== 16 && data.length !== 20) return this.fail(op, 'badLength');
    const size = u32(data, 0);
    const numBlocks = u32(data, 4);
    const blockSize = u32(data, 8);
    const offset = u32(data, 12);
    if (blockSize === 0 && size > 0) return this.fail(op, 'badBlockSize');
    if (offset + size > this.flash.size) return this.fail(op, 'spiFailed');
    if (this.write?.inflater) this.write.inflater = undefined;
    this.write = { compressed, offset, size, blockSize, numBlocks, written: 0 };
    if (compressed) this.startInflater(this.write);
    // Both erase the sectors covering the range; the ROM before answering, the stub while data
    // streams in (and it skips sectors that are already blank).
    const dirty = this.flash.erase(offset, size);
    const sectors = size > 0 ? Math.ceil((offset + size) / SECTOR_SIZE) - Math.floor(offset / SECTOR_SIZE) : 0;
    if (this.semantics === 'rom') {
      this.busy(sectors * this.opts.timing.sectorEraseMs);
      this.reply(op);
    } else {
      this.reply(op);
      this.busy(dirty * this.opts.timing.sectorEraseMs);
    }
  }

  private startInflater(session: WriteSession): void {
    const inflater = new Inflate();
    session.inflateOutput = [];
    inflater.onData = (chunk: Uint8Array) => session.inflateOutput!.push(chunk);
    session.inflater = inflater;
  }

  private flashData(op: number, data: Uint8Array, chk: number, compressed: boolean): void {
    const session = this.write;
    if (!session || session.compressed !== compressed) return this.fail(op, 'notInMode');
    const block = this.dataBlock(op, data, chk);
    if (!block) return;
    let toProgram: { offset: number; bytes: Uint8Array }[];
    if (compressed) {
      const inflater = session.inflater!;
      inflater.push(block.bytes, false);
      if (inflater.err) return this.programFailure(op, 'inflate');
      const produced = session.inflateOutput!.splice(0);
      toProgram = [];
      for (const chunk of produced) {
        toProgram.push({ offset: session.offset + session.written, bytes: chunk });
        session.written += chunk.length;
      }
      if (this.semantics === 'stub' && session.written > session.size) return this.programFailure(op, 'tooMuchData');
    } else if (this.semantics === 'rom') {
      // The ROM places each block by its sequence number and programs all of it (padding included).
      const offset = session.offset + block.seq * session.blockSize;
      const len = Math.max(0, Math.min(block.bytes.length, this.flash.size - offset));
      toProgram = [{ offset, bytes: block.bytes.subarray(0, len) }];
    } else {
      // The stub writes sequentially and only up to the announced size (the last block is 0xFF-padded).
      const len = Math.min(block.bytes.length, session.size - session.written);
      toProgram = [{ offset: session.offset + session.written, bytes: block.bytes.subarray(0, len) }];
      session.written += len;
    }
    let bytes = 0;
    try {
      for (const part of toProgram) {
        const stored = this.opts.hooks?.transformWrite?.(part.offset, part.bytes) ?? part.bytes;
        this.flash.program(part.offset, stored);
        bytes += part.bytes.length;
      }
    } catch (err) {
      if (err instanceof FlashRangeError) return this.programFailure(op, 'spiFailed');
      throw err;
    }
    const programMs = bytes / this.opts.timing.programBytesPerMs;
    if (this.semantics === 'rom') {
      this.busy(programMs);
      this.reply(op);
    } else {
      // The stub acknowledges at once and programs while the next block is in transit.
      this.reply(op);
      this.busy(programMs);
    }
  }

  /** ROM: fail this command; stub: the block was already acknowledged, so report on the next command. */
  private programFailure(op: number, err: ErrKind): void {
    if (this.semantics === 'rom') return this.fail(op, err);
    this.reply(op);
    this.pendingError = err;
  }

  private flashEnd(op: number, data: Uint8Array): void {
    if (data.length !== 4) return this.fail(op, 'badLength');
    const reboot = u32(data, 0) === 0;
    const session = this.write;
    if (this.semantics === 'stub') {
      if (!session) return this.fail(op, 'notInMode');
      this.write = null;
      if (session.written < session.size) return this.fail(op, 'badLength'); // spec §8: C0
      // The current stub ignores the reboot flag and keeps running (spec §8).
      return this.reply(op);
    }
    this.write = null;
    this.reply(op);
    if (reboot) this.out.afterSent(() => this.out.bootFirmware());
  }

  private md5(op: number, data: Uint8Array): void {
    if (data.length < 8) return this.fail(op, 'badLength');
    const addr = u32(data, 0);
    const size = u32(data, 4);
    if (addr + size > this.flash.size) return this.fail(op, 'spiFailed');
    const digest = createHash('md5').update(this.flash.bytes.subarray(addr, addr + size)).digest();
    this.busy(size / this.opts.timing.md5BytesPerMs);
    if (this.semantics === 'stub') return this.reply(op, 0, new Uint8Array(digest));
    this.reply(op, 0, new TextEncoder().encode(digest.toString('hex')));
  }

  private securityInfo(): Uint8Array {
    // An unsecured part: no flags, no key purposes, just the chip id (spec §6).
    const info = new Uint8Array(20);
    info.set(le32(this.profile.securityChipId ?? 0), 12);
    return info;
  }

  private readFlashSlow(op: number, data: Uint8Array): void {
    if (data.length !== 8) return this.fail(op, 'badLength');
    const addr = u32(data, 0);
    const len = u32(data, 4);
    if (len > 64 || addr + len > this.flash.size) return this.fail(op, 'badLength');
    const payload = new Uint8Array(64);
    payload.set(this.flash.bytes.subarray(addr, Math.min(this.flash.size, addr + 64)));
    this.reply(op, 0, payload);
  }

  // ---------------------------------------------------------------- stub-only commands

  private eraseFlash(op: number): void {
    this.flash.eraseAll();
    this.busy((this.flash.size / 0x100000) * this.opts.timing.chipEraseMsPerMiB);
    this.reply(op);
  }

  private eraseRegion(op: number, data: Uint8Array): void {
    const offset = u32(data, 0);
    const size = u32(data, 4);
    if (offset % SECTOR_SIZE !== 0 || size % SECTOR_SIZE !== 0) return this.fail(op, 'badLength');
    if (offset + size > this.flash.size) return this.fail(op, 'spiFailed');
    const dirty = this.flash.erase(offset, size);
    this.busy(dirty * this.opts.timing.sectorEraseMs);
    this.reply(op);
  }

  private readFlash(op: number, data: Uint8Array): void {
    const offset = u32(data, 0);
    const length = u32(data, 4);
    const packetSize = u32(data, 8);
    if (packetSize === 0 || packetSize > 0x10000) return this.fail(op, 'badBlockSize');
    if (offset + length > this.flash.size) return this.fail(op, 'spiFailed');
    this.reply(op);
    this.read = { offset, length, packetSize, sent: 0, md5: createHash('md5') };
    this.sendReadPacket();
  }

  private sendReadPacket(): void {
    const r = this.read!;
    const n = Math.min(r.packetSize, r.length - r.sent);
    const chunk = this.flash.bytes.slice(r.offset + r.sent, r.offset + r.sent + n);
    r.md5.update(chunk);
    r.sent += n;
    this.out.frame(chunk);
  }

  private onReadAck(total: number): void {
    const r = this.read!;
    // The stub keeps one packet in flight: the next one goes out only after the host confirmed.
    if (total < r.sent) return;
    if (r.sent < r.length) return this.sendReadPacket();
    this.read = null;
    this.out.frame(new Uint8Array(r.md5.digest()));
  }

  // ---------------------------------------------------------------- helpers

  /** Parses the common `len, seq, 0, 0, data` layout and checks length and checksum. */
  private dataBlock(op: number, data: Uint8Array, chk: number): { seq: number; bytes: Uint8Array } | null {
    if (data.length < 16) {
      this.fail(op, 'badLength');
      return null;
    }
    const len = u32(data, 0);
    const bytes = data.subarray(16);
    if (bytes.length !== len) {
      this.fail(op, 'badLength');
      return null;
    }
    if ((chk & 0xff) !== checksum(bytes)) {
      this.fail(op, 'checksum');
      return null;
    }
    return { seq: u32(data, 4), bytes };
  }
}
