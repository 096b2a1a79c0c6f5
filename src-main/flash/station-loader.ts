// esptool-js's ESPLoader, extended with what the station's connect / write path needs and
// esptool-js 0.7.0 does not offer (its own flows always upload the stub first, then change baud):
//   * chip detection from the magic register alone (no GET_SECURITY_INFO round on ESP32, whose
//     ROM answers it with 8 error frames that esptool-js drains for ≥ 100 ms);
//   * CHANGE_BAUDRATE in the ROM (with esptool's ESP32 crystal-estimate correction), so the stub
//     and everything else travel at the fast rate;
//   * the ROM's own flash commands as esptool.py uses them with --no-stub: SPI attach and
//     parameters, 1 KiB compressed blocks, an erase size independent of the data, MD5 as ASCII;
//   * a stub upload that copes with a stub which re-programs the UART to 115200 when it starts;
//   * register reads cached while identifying (eFuse words are read several times by esptool-js).
// SLIP framing, command encoding, checksums, retries and the stub images stay esptool-js's.
import { ESPError, ESPLoader, getStubJsonByChipName } from 'esptool-js';
import { CHIP_MAGIC_REG, CHIP_NAMES, ESP32_ROM_XTAL_ESTIMATE, chipFromMagic, chipInfo, esp32RomBaudArgument, esp32RomXtalEstimate, normalizeChipName, romFor, type ChipName } from './chips.ts';
import type { StationTransport } from './link.ts';

/** esptool.py's ROM block size (its FLASH_WRITE_SIZE without the stub). */
export const ROM_WRITE_BLOCK = 0x400;
/** The stub's block size (esptool and esptool-js). */
export const STUB_WRITE_BLOCK = 0x4000;
/** Rate every ROM starts at (spec §1). */
export const ROM_START_BAUD = 115200;

const OP = { MEM_END: 0x06, SYNC: 0x08, WRITE_REG: 0x09, SPI_SET_PARAMS: 0x0b, SPI_ATTACH: 0x0d, CHANGE_BAUDRATE: 0x0f, FLASH_DEFL_BEGIN: 0x10, FLASH_DEFL_END: 0x12, SPI_FLASH_MD5: 0x13, ERASE_REGION: 0xd1 } as const;
/**
 * An answer to READ_REG or the stub's greeting normally arrives within a few ms. The bound is
 * generous because it is only ever waited out when something is wrong, and a loaded machine (or a
 * pty relayed through socat to another process) can delay a healthy answer by tens of ms.
 */
const PROBE_TIMEOUT_MS = 500;
const SPI_CMD_USR = 1 << 18;
const SPI_USR_COMMAND = 1 << 31;
const SPI_USR_MISO = 1 << 28;
const SPIFLASH_RDID = 0x9f;

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setUint32(i * 4, v >>> 0, true));
  return out;
}

/** [addr, value, mask, delay µs] — one WRITE_REG entry. */
export type RegWrite = [number, number, number?, number?];

/**
 * Loads esptool-js's chip classes and stub images ahead of use (module loading and base64
 * decoding take a few ms each, which would otherwise land between two commands).
 */
export function prefetchChipSupport(): void {
  for (const name of CHIP_NAMES) {
    void romFor(name).then((rom) => getStubJsonByChipName(rom.CHIP_NAME)).catch(() => undefined);
  }
}

export class StationLoader extends ESPLoader {
  declare transport: StationTransport;
  /** The station's name for the chip, when it is one the station supports. */
  chipName?: ChipName;
  private regCache: Map<number, number> | null = null;
  private readonly untimedReadReg = ESPLoader.prototype.readReg;
  /** Round-trip time of register reads beyond their bytes' wire time (USB latency, turnaround). */
  private readonly overheads: number[] = [];

  /** Median per-command overhead seen so far (ms), or undefined before any register read. */
  get commandOverheadMs(): number | undefined {
    if (this.overheads.length === 0) return undefined;
    const sorted = [...this.overheads].sort((a, b) => a - b);
    return sorted[sorted.length >> 1];
  }

  private async rawReadReg(addr: number, timeout?: number): Promise<number> {
    const t = performance.now();
    const value = await this.untimedReadReg.call(this, addr, timeout);
    // READ_REG: 14 bytes each way with SLIP framing.
    this.overheads.push(Math.max(0, performance.now() - t - (28 * 10 * 1000) / this.transport.baudrate));
    if (this.overheads.length > 64) this.overheads.shift();
    return value;
  }

  /** True when the last SYNC was answered by a running stub (value 0). */
  syncFoundStub = false;

  /**
   * One SYNC: the request, then its 8 answers (spec §5), each awaited up to `timeout` ms. The
   * caller grows the timeout from try to try (esptool-js always waits 100 ms, which a loaded
   * machine can miss every time).
   */
  async syncOnce(timeout: number): Promise<void> {
    const data = new Uint8Array(36);
    data.set([0x07, 0x07, 0x12, 0x20]);
    data.fill(0x55, 4);
    let [value] = await this.command(OP.SYNC, data, 0, true, timeout);
    let stub = value === 0;
    for (let i = 0; i < 7; i++) {
      [value] = await this.readPacket(OP.SYNC, timeout);
      stub &&= value === 0;
    }
    this.syncFoundStub = stub;
  }

  override async readReg(addr: number, timeout?: number): Promise<number> {
    const cache = this.regCache;
    if (!cache || addr === CHIP_MAGIC_REG) return this.rawReadReg(addr, timeout);
    let value = cache.get(addr);
    if (value === undefined) {
      value = await this.rawReadReg(addr, timeout);
      cache.set(addr, value);
    }
    return value;
  }

  /** Runs `fn` with register reads cached (for identification: eFuse and ROM constants only). */
  async withRegisterCache<T>(fn: () => Promise<T>): Promise<T> {
    this.regCache = new Map();
    try {
      return await fn();
    } finally {
      this.regCache = null;
    }
  }

  /** Identifies the chip from the magic register; other chips and refused reads go through esptool-js. */
  async detect(): Promise<void> {
    let name: ChipName | undefined;
    try {
      name = chipFromMagic(await this.readReg(CHIP_MAGIC_REG));
    } catch (err) {
      if (!(err instanceof ESPError)) throw err;
    }
    if (name) {
      this.chip = await romFor(name);
      this.chipName = name;
      return;
    }
    // Secure download mode or a chip the station does not know: esptool-js's own detection.
    const internals = this as unknown as { identifyChip(): Promise<ESPLoader['chip']>; applyDetectedChip(c: ESPLoader['chip']): void };
    internals.applyDetectedChip(await internals.identifyChip());
    this.chipName = normalizeChipName(this.chip.CHIP_NAME);
  }

  /**
   * CHANGE_BAUDRATE in the current loader, then the host follows and probes. False when the chip
   * did not answer at the new rate (the caller reconnects); the host then stays at the new rate.
   */
  async changeBaudRate(baud: number): Promise<boolean> {
    const current = this.transport.baudrate;
    let asked = baud;
    if (!this.IS_STUB && this.chipName && chipInfo(this.chipName).romBaudNeedsXtalCorrection) {
      const { rtcCaliReg, ck8mEfuseReg } = ESP32_ROM_XTAL_ESTIMATE;
      asked = esp32RomBaudArgument(baud, esp32RomXtalEstimate(await this.readReg(rtcCaliReg), await this.readReg(ck8mEfuseReg)));
    }
    await this.checkCommand('change baud rate', OP.CHANGE_BAUDRATE, words(asked, this.IS_STUB ? current : 0));
    await this.transport.changeBaudrate(baud);
    return this.probe();
  }

  /** Is the chip answering at the current rate? (READ_REG of the magic register, a few tries.) */
  async probe(tries = 3): Promise<boolean> {
    for (let i = 0; i < tries; i++) {
      try {
        await this.rawReadReg(CHIP_MAGIC_REG, PROBE_TIMEOUT_MS);
        return true;
      } catch (err) {
        if (!(err instanceof ESPError)) throw err;
      }
    }
    return false;
  }

  /** Several register writes in one WRITE_REG (the command takes any number of 16-byte entries, spec §4). */
  async writeRegs(entries: RegWrite[]): Promise<void> {
    const data = words(...entries.flatMap(([addr, value, mask = 0xffffffff, delay = 0]) => [addr, value, mask, delay]));
    await this.checkCommand('write target memory', OP.WRITE_REG, data);
  }

  /** The ROM reaches the flash only after SPI_ATTACH (esptool: "ROM loader doesn't enable flash unless we explicitly do it"). */
  async attachFlash(): Promise<void> {
    if (this.IS_STUB) return; // the stub attaches the flash when it starts
    await this.checkCommand('configure SPI flash pins', OP.SPI_ATTACH, words(0, 0));
  }

  /** Tells the loader the flash size (esptool sends it before every write; the ROM checks erase ranges against it). */
  async setFlashSize(bytes: number): Promise<void> {
    await this.checkCommand('set SPI params', OP.SPI_SET_PARAMS, words(0, bytes, 0x10000, 0x1000, 0x100, 0xffff));
  }

  /**
   * JEDEC id through the SPI user-command registers (spec §7), as esptool-js's readFlashId but
   * with the set-up writes in one WRITE_REG: 6 round trips instead of 11.
   */
  async readFlashIdQuick(): Promise<number> {
    const c = this.chip;
    if (c.SPI_MISO_DLEN_OFFS === undefined) return this.readFlashId();
    const base = c.SPI_REG_BASE;
    const [usr, usr2, w0] = [base + c.SPI_USR_OFFS, base + c.SPI_USR2_OFFS, base + c.SPI_W0_OFFS];
    const oldUsr = await this.rawReadReg(usr);
    const oldUsr2 = await this.rawReadReg(usr2);
    await this.writeRegs([
      [base + c.SPI_MISO_DLEN_OFFS, 24 - 1],
      [usr, SPI_USR_COMMAND | SPI_USR_MISO],
      [usr2, (7 << 28) | SPIFLASH_RDID],
      [w0, 0],
      [base, SPI_CMD_USR],
    ]);
    let done = false;
    for (let i = 0; i < 10 && !done; i++) done = ((await this.rawReadReg(base)) & SPI_CMD_USR) === 0;
    if (!done) throw new ESPError('SPI command did not complete in time');
    const id = await this.rawReadReg(w0);
    await this.writeRegs([
      [usr, oldUsr],
      [usr2, oldUsr2],
    ]);
    return id;
  }

  /** MD5 of a flash range as lowercase hex (the ROM answers 32 ASCII characters, the stub 16 bytes). */
  async flashMd5(addr: number, size: number): Promise<string> {
    const timeout = this.timeoutPerMb(this.MD5_TIMEOUT_PER_MB, size);
    const length = this.IS_STUB ? 16 : 32;
    const res = (await this.checkCommand('calculate md5sum', OP.SPI_FLASH_MD5, words(addr, size, 0, 0), 0, length, timeout)) as Uint8Array;
    return this.IS_STUB ? this.toHex(res) : new TextDecoder().decode(res).toLowerCase();
  }

  /**
   * FLASH_DEFL_BEGIN. ROM: `eraseSize` bytes are erased before it answers (any multiple of 4 KiB,
   * independent of how much data follows). Stub: `dataSize` bytes will follow (it erases those).
   */
  async beginDeflate(offset: number, eraseSize: number, dataSize: number, compressedSize: number, blockSize: number): Promise<void> {
    const blocks = Math.ceil(compressedSize / blockSize);
    const fields = [this.IS_STUB ? dataSize : eraseSize, blocks, blockSize, offset];
    if (!this.IS_STUB && this.chipName && chipInfo(this.chipName).romBeginHasEncryptWord) fields.push(0);
    const timeout = this.IS_STUB ? this.DEFAULT_TIMEOUT : this.timeoutPerMb(this.ERASE_REGION_TIMEOUT_PER_MB, eraseSize);
    await this.checkCommand('enter compressed flash mode', OP.FLASH_DEFL_BEGIN, words(...fields), 0, 0, timeout);
  }

  /** Stub only: waits until the last block is programmed (flag 1: stay in the loader). */
  async endDeflate(timeout: number): Promise<void> {
    await this.checkCommand('leave compressed flash mode', OP.FLASH_DEFL_END, words(1), 0, 0, timeout);
  }

  /** Stub only: erases whole 4 KiB sectors. */
  async eraseRegion(offset: number, size: number): Promise<void> {
    await this.checkCommand('erase region', OP.ERASE_REGION, words(offset, size), 0, 0, this.timeoutPerMb(this.ERASE_REGION_TIMEOUT_PER_MB, size));
  }

  /** esptool-js's flasher stub for this chip (decoded once). */
  private stubImage?: Promise<Awaited<ReturnType<typeof getStubJsonByChipName>>>;
  private loadStub(): ReturnType<typeof getStubJsonByChipName> {
    this.stubImage ??= getStubJsonByChipName(this.chip.CHIP_NAME);
    return this.stubImage;
  }

  /** Size in bytes of the flasher stub esptool-js would upload for this chip (0: none). */
  async stubSize(): Promise<number> {
    if (this.chipName && !chipInfo(this.chipName).stub) return 0; // the chip table: no stub for it
    const stub = await this.loadStub();
    return stub ? stub.decodedText.length + stub.decodedData.length : 0;
  }

  /**
   * Uploads and starts esptool-js's flasher stub at the current rate. If its greeting does not
   * arrive there, the stub may have set the UART back to 115200 (esp-flasher-stub ≥ 1.1 on ESP32
   * re-programs the divider for the rate the ROM recorded): find it there and raise the rate again.
   */
  async uploadStub(): Promise<void> {
    const stub = await this.loadStub();
    if (!stub) throw new ESPError(`no flasher stub for ${this.chip.CHIP_NAME}`);
    for (const [bytes, addr] of [[stub.decodedText, stub.text_start], [stub.decodedData, stub.data_start]] as const) {
      const blocks = Math.ceil(bytes.length / this.ESP_RAM_BLOCK);
      await this.memBegin(bytes.length, blocks, this.ESP_RAM_BLOCK, addr);
      for (let seq = 0; seq < blocks; seq++) await this.memBlock(bytes.slice(seq * this.ESP_RAM_BLOCK, (seq + 1) * this.ESP_RAM_BLOCK), seq);
    }
    // MEM_END (flag 0: run) is answered before the jump; esptool-js allows 200 ms for that answer.
    await this.checkCommand('leave RAM download mode', OP.MEM_END, words(0, stub.entry), 0, 0, this.DEFAULT_TIMEOUT);
    const rate = this.transport.baudrate;
    const greeted = await this.readGreeting(rate === ROM_START_BAUD ? this.DEFAULT_TIMEOUT : PROBE_TIMEOUT_MS);
    this.IS_STUB = true;
    if (greeted) return;
    if (rate === ROM_START_BAUD) throw new ESPError('Failed to start stub: no greeting');
    await this.transport.changeBaudrate(ROM_START_BAUD);
    if (!(await this.probe())) throw new ESPError('Failed to start stub: no greeting');
    if (!(await this.changeBaudRate(rate))) throw new ESPError(`the stub does not answer at ${rate} baud`);
  }

  private async readGreeting(timeout: number): Promise<boolean> {
    try {
      const frame = await this.transport.read(timeout);
      return new TextDecoder().decode(frame) === 'OHAI';
    } catch (err) {
      if (err instanceof ESPError) return false;
      throw err;
    }
  }
}
