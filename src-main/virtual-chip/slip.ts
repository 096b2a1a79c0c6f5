// SLIP framing as the ESP ROM/stub speak it (spec §2). The decoder is the tolerant chip-side
// receiver: bytes outside a frame are noise, `C0 C0` is an empty frame, a bad escape drops the frame.

export const SLIP_END = 0xc0;
export const SLIP_ESC = 0xdb;
export const SLIP_ESC_END = 0xdc;
export const SLIP_ESC_ESC = 0xdd;

/** Wraps `payload` as `C0 <escaped payload> C0`. */
export function slipEncode(payload: Uint8Array): Uint8Array {
  let extra = 0;
  for (const b of payload) if (b === SLIP_END || b === SLIP_ESC) extra++;
  const out = new Uint8Array(payload.length + extra + 2);
  let o = 0;
  out[o++] = SLIP_END;
  for (const b of payload) {
    if (b === SLIP_END) { out[o++] = SLIP_ESC; out[o++] = SLIP_ESC_END; }
    else if (b === SLIP_ESC) { out[o++] = SLIP_ESC; out[o++] = SLIP_ESC_ESC; }
    else out[o++] = b;
  }
  out[o] = SLIP_END;
  return out;
}

/** Streaming decoder: feed arbitrary chunks, get complete non-empty frames back. */
export class SlipDecoder {
  private inFrame = false;
  private escaping = false;
  private invalid = false;
  private buf = new Uint8Array(256);
  private len = 0;

  reset(): void {
    this.inFrame = false;
    this.escaping = false;
    this.invalid = false;
    this.len = 0;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const b of chunk) {
      if (!this.inFrame) {
        // Anything before an opening delimiter (boot text, noise) is ignored.
        if (b === SLIP_END) this.startFrame();
        continue;
      }
      if (b === SLIP_END) {
        // A closing C0 may double as the next opening one.
        if (!this.invalid && !this.escaping && this.len > 0) frames.push(this.buf.slice(0, this.len));
        this.startFrame();
        continue;
      }
      if (this.invalid) continue;
      if (this.escaping) {
        this.escaping = false;
        if (b === SLIP_ESC_END) this.append(SLIP_END);
        else if (b === SLIP_ESC_ESC) this.append(SLIP_ESC);
        else this.invalid = true;
        continue;
      }
      if (b === SLIP_ESC) this.escaping = true;
      else this.append(b);
    }
    return frames;
  }

  private startFrame(): void {
    this.inFrame = true;
    this.escaping = false;
    this.invalid = false;
    this.len = 0;
  }

  private append(b: number): void {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.len++] = b;
  }
}
