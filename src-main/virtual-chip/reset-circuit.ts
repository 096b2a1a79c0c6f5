// How the host's DTR / RTS reach EN and IO0 (spec §14.1): a UART bridge's two cross-coupled
// transistors, with IO0 sampled when EN's RC has charged, or the native USB-Serial/JTAG, which
// resets while RTS is on and DTR off and latches "download" when RTS rises with DTR on.
import type { ChipMode } from './host-port.ts';
import type { ResetCircuit } from './profiles.ts';

/**
 * EN has an RC delay, and IO0 is sampled when EN crosses its threshold (spec §14.1). Espressif's
 * hardware design guidelines put R = 10 kΩ, C = 1 µF on CHIP_PU; from a discharged capacitor it
 * reaches V_IH = 0.75 × VDD after RC × ln 4 ≈ 13.9 ms (the ESP32 datasheet's strapping hold time
 * after that is 1 ms; the sample is taken at the crossing).
 */
export const STRAP_SAMPLE_MS = 14;

/** What the circuit drives. */
export interface ResetTarget {
  readonly mode: ChipMode;
  /** EN went low: the chip stops. */
  holdReset(): void;
  /** EN is high again and the boot mode is decided. */
  boot(download: boolean): void;
}

export class ResetCircuitModel {
  /** Current line state, `true` = asserted. */
  lines = { dtr: false, rts: false };
  private usbLatch = false;
  private strapTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly kind: ResetCircuit,
    private readonly target: ResetTarget,
  ) {}

  /** Power cycle: both lines released, nothing pending. */
  powerOff(): void {
    this.cancelStrap();
    this.lines = { dtr: false, rts: false };
  }

  cancelStrap(): void {
    if (this.strapTimer) clearTimeout(this.strapTimer);
    this.strapTimer = null;
  }

  apply(next: { dtr: boolean; rts: boolean }): void {
    const prev = this.lines;
    this.lines = next;
    const mode = this.target.mode;
    if (mode === 'off') return;
    if (this.kind === 'uart-bridge') {
      // EN low only for (DTR off, RTS on), IO0 low only for (DTR on, RTS off).
      const enLow = next.rts && !next.dtr;
      if (enLow && mode !== 'reset') this.target.holdReset();
      else if (!enLow && mode === 'reset' && !this.strapTimer) {
        this.strapTimer = setTimeout(() => {
          this.strapTimer = null;
          if (this.target.mode === 'reset') this.target.boot(this.lines.dtr && !this.lines.rts);
        }, STRAP_SAMPLE_MS);
      } else if (enLow && this.strapTimer) {
        this.cancelStrap(); // EN fell again before the strap was sampled
      }
    } else {
      if (next.rts && !prev.rts) this.usbLatch = next.dtr;
      const inReset = next.rts && !next.dtr;
      if (inReset && mode !== 'reset') this.target.holdReset();
      else if (!inReset && mode === 'reset') this.target.boot(this.usbLatch);
    }
  }
}
