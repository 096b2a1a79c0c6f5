// The download-mode protocol engine: ROM bootloader and flasher-stub semantics (spec §3–§13).
// It is independent of any transport: it consumes decoded SLIP frames and emits frames, "busy"
// periods and "after the wire is clear" actions through `LoaderOutput`, which the chip model
// turns into paced bytes. The serialport binding and the pty server both reuse it via VirtualChip.
import { type NorFlash, SECTOR_SIZE } from './flash-model.ts';
import type { ChipProfile } from './profiles.ts';
import type { RegisterFile } from './registers.ts';
import { FlashWritePath, type WriteHost } from './loader-write.ts';
import { FlashReadPath } from './loader-read.ts';
import { eraseMs, stubRegionEraseWork, type ChipTiming } from './timing.ts';
import { checksum, EMPTY, ERR, le32, OHAI, OP, ROM_DEFAULT_BAUD, SYNC_VALUE, u16, u32, type ErrKind } from './protocol.ts';

export { OP, SYNC_VALUE } from './protocol.ts';

export { DATASHEET_TIMING, type ChipTiming } from './timing.ts';

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

interface RamSegment {
  addr: number;
  data: Uint8Array;
  blockSize: number;
}

export interface LoaderEngineOptions {
  timing: ChipTiming;
  timingScale: number;
  unsupportedReply: UnsupportedReplyStyle;
  hooks?: LoaderHooks;
  /**
   * The stub re-programs the UART to the ROM's initial 115200 baud when it starts (before OHAI).
   * esp-flasher-stub ≥ 1.1 on ESP32 re-programs the divider for the rate the ROM recorded at init;
   * whether the ROM records a CHANGE_BAUDRATE there is undocumented, so hosts must cope with both.
   */
  stubRestoresRomBaud?: boolean;
}

export class LoaderEngine {
  /** 'rom' until a stub was uploaded and started. */
  semantics: 'rom' | 'stub' = 'rom';
  /** Stub image seen at the last MEM_END (for inspection/logging). */
  stubImage: { entry: number; textStart: number; textLength: number } | null = null;
  /** Size declared by SPI_SET_PARAMS, if any. */
  declaredFlashSize: number | null = null;
  /** SPI_ATTACH seen since the last reset (esptool attaches before any ROM flash command). */
  spiAttached = false;
  /** Count of commands handled, by opcode (inspection). */
  readonly commandCounts = new Map<number, number>();

  private lastResponseOp = 0x00;
  private ram: RamSegment[] = [];
  private currentRam: RamSegment | null = null;
  private pendingError: ErrKind | null = null;
  private readonly writer: FlashWritePath;
  private readonly reader: FlashReadPath;

  constructor(
    private readonly profile: ChipProfile,
    private readonly flash: NorFlash,
    private readonly regs: RegisterFile,
    private readonly out: LoaderOutput,
    private readonly opts: LoaderEngineOptions,
  ) {
    this.writer = new FlashWritePath(this.writeHost(), flash);
    const engine = this;
    this.reader = new FlashReadPath(
      {
        get semantics() {
          return engine.semantics;
        },
        timing: opts.timing,
        reply: (op, value, payload) => this.reply(op, value, payload),
        fail: (op, err) => this.fail(op, err),
        busy: (ms) => this.busy(ms),
        frame: (payload) => this.out.frame(payload),
      },
      flash,
    );
  }

  private writeHost(): WriteHost {
    const engine = this;
    return {
      get semantics() {
        return engine.semantics;
      },
      timing: this.opts.timing,
      reply: (op) => this.reply(op),
      fail: (op, err) => this.fail(op, err),
      busy: (ms) => this.busy(ms),
      dataBlock: (op, data, chk) => this.dataBlock(op, data, chk),
      defer: (err) => {
        this.pendingError = err;
      },
      transformWrite: this.opts.hooks?.transformWrite,
      rebootAfterAnswer: () => this.out.afterSent(() => this.out.bootFirmware()),
    };
  }

  /** Back to a fresh ROM after a reset. */
  reset(): void {
    this.semantics = 'rom';
    this.stubImage = null;
    this.declaredFlashSize = null;
    this.spiAttached = false;
    this.lastResponseOp = 0;
    this.ram = [];
    this.currentRam = null;
    this.writer.reset();
    this.reader.reset();
    this.pendingError = null;
  }

  handleFrame(frame: Uint8Array): void {
    // During a stub READ_FLASH the host answers each data packet with a 4-byte running total.
    if (this.reader.streaming && this.reader.onFrame(frame)) return;
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
      case OP.FLASH_BEGIN: return this.writer.begin(op, data, false);
      case OP.FLASH_DEFL_BEGIN: return this.writer.begin(op, data, true);
      case OP.FLASH_DATA: return this.writer.data(op, data, chk, false);
      case OP.FLASH_DEFL_DATA: return this.writer.data(op, data, chk, true);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: return this.writer.end(op, data);
      case OP.SPI_FLASH_MD5: return this.reader.md5(op, data);
      case OP.GET_SECURITY_INFO:
        if (this.profile.securityInfo === 'none') return this.unsupported(op);
        return this.reply(op, 0, this.securityInfo());
      case OP.READ_FLASH_SLOW:
        if (!this.profile.romReadFlashSlow) return this.unsupported(op);
        return this.reader.readSlow(op, data);
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
      case OP.FLASH_BEGIN: return this.writer.begin(op, data, false);
      case OP.FLASH_DEFL_BEGIN: return this.writer.begin(op, data, true);
      case OP.FLASH_DATA: return this.writer.data(op, data, chk, false);
      case OP.FLASH_DEFL_DATA: return this.writer.data(op, data, chk, true);
      case OP.FLASH_END:
      case OP.FLASH_DEFL_END: return this.writer.end(op, data);
      case OP.SPI_FLASH_MD5: return data.length === 16 ? this.reader.md5(op, data) : this.fail(op, 'badLength');
      case OP.GET_SECURITY_INFO:
        if (this.profile.securityInfo === 'none') return this.fail(op, 'notImplemented');
        return this.reply(op, 0, this.securityInfo());
      case OP.ERASE_FLASH: return this.eraseFlash(op);
      case OP.ERASE_REGION: return data.length === 8 ? this.eraseRegion(op, data) : this.fail(op, 'badLength');
      case OP.READ_FLASH: return data.length === 16 ? this.reader.readStream(op, data) : this.fail(op, 'badLength');
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
    this.writer.reset();
    const t = this.opts.timing;
    this.busy(this.profile.kind === 'esp32' ? t.esp32StubStartMs : t.stubStartMs);
    this.semantics = 'stub';
    if (this.opts.stubRestoresRomBaud) {
      // Queued from the action so the greeting is sent at the rate the stub just set.
      this.out.afterSent(() => {
        this.out.setUartBaud(ROM_DEFAULT_BAUD);
        this.out.frame(OHAI);
      });
    } else this.out.frame(OHAI);
  }

  private spiAttach(op: number, data: Uint8Array): void {
    if (data.length !== 4 && data.length !== 8) return this.fail(op, 'badLength');
    this.spiAttached = true;
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

  private securityInfo(): Uint8Array {
    // An unsecured part: no flags, no key purposes, then (all but the ESP32-S2 ROM, whose answer
    // stops after the key purposes) the chip id and the API version (spec §6, esptool get_security_info).
    if (this.profile.securityInfo === 'short') return new Uint8Array(12);
    const info = new Uint8Array(20);
    info.set(le32(this.profile.chipId), 12);
    return info;
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
    // Unconditional, blocks where aligned (timing.ts [STUB]).
    const ms = eraseMs(stubRegionEraseWork(offset, size), this.opts.timing);
    this.flash.erase(offset, size);
    this.busy(ms);
    this.reply(op);
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
