// The register space the hosts poke at (spec §7): eFuses and the magic value from the profile,
// the UART clock divider (hosts derive the crystal from it), and the SPI "user command" engine
// that answers RDID / status / SFDP. Unknown addresses read 0; writes are accepted and stored.
import { CHIP_DETECT_MAGIC_REG, type ChipProfile } from './profiles.ts';

const SPI_CMD_USR = 1 << 18;

export interface RegisterContext {
  /** The UART rate the chip is currently clocked for (for the clock divider). */
  uartBaud(): number;
  /** JEDEC id of the attached flash. */
  flashId(): number;
}

export class RegisterFile {
  private readonly values = new Map<number, number>();
  private readonly fixed: Map<number, number>;

  constructor(private readonly profile: ChipProfile, efuses: Map<number, number>, private readonly ctx: RegisterContext) {
    this.fixed = new Map(efuses);
    this.fixed.set(CHIP_DETECT_MAGIC_REG, profile.magic);
  }

  /** Registers other than eFuses/ROM constants forget their values on reset. */
  reset(): void {
    this.values.clear();
  }

  read(addr: number): number {
    addr >>>= 0;
    const fixed = this.fixed.get(addr);
    if (fixed !== undefined) return fixed >>> 0;
    if (addr === this.profile.uartClkdivReg) return Math.round(40_000_000 / this.ctx.uartBaud()) & 0xfffff;
    // The SPI command bit self-clears once the (instant) transaction is done.
    if (addr === this.profile.spi.base) return ((this.values.get(addr) ?? 0) & ~SPI_CMD_USR) >>> 0;
    return (this.values.get(addr) ?? 0) >>> 0;
  }

  /** WRITE_REG semantics: only the bits in `mask` change. */
  write(addr: number, value: number, mask = 0xffffffff): void {
    addr >>>= 0;
    if (this.fixed.has(addr)) return; // eFuses and the magic value are read-only
    const old = this.values.get(addr) ?? 0;
    const next = ((old & ~mask) | (value & mask)) >>> 0;
    this.values.set(addr, next);
    if (addr === this.profile.spi.base && next & SPI_CMD_USR) this.runSpiCommand();
  }

  private runSpiCommand(): void {
    const spi = this.profile.spi;
    const opcode = (this.values.get(spi.base + spi.usr2) ?? 0) & 0xff;
    let result = 0;
    switch (opcode) {
      case 0x9f: result = this.ctx.flashId(); break; // RDID
      // Status registers read 0 (not busy, no protection); SFDP reads 0 so hosts fall back to RDID;
      // software reset (0x66/0x99) and anything else have no visible effect.
      default: result = 0;
    }
    this.values.set(spi.base + spi.w0, result >>> 0);
  }
}
