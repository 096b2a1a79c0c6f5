// Raw byte access to a virtual chip (no serialport, no esptool): for exact-frame assertions.
import { SlipDecoder, VirtualChip, type HostPort, type VirtualChipOptions } from '../../../src-main/virtual-chip/index.ts';

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return new Uint8Array(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

export interface RawLink {
  chip: VirtualChip;
  port: HostPort;
  received(): Uint8Array;
  clear(): void;
  /** Waits until at least `n` bytes arrived (or throws after `ms`). */
  waitFor(n: number, ms?: number): Promise<Uint8Array>;
  /** Waits until the chip has been quiet for `quietMs`, then returns everything received. */
  settle(quietMs?: number): Promise<Uint8Array>;
  frames(): Uint8Array[];
}

/** Connects and waits until the power-on banner has passed, so tests start from silence. */
export async function rawLink(options: VirtualChipOptions, baud = 115200): Promise<RawLink> {
  const chip = new VirtualChip(options);
  let chunks: Uint8Array[] = [];
  let total = 0;
  let lastAt = Date.now();
  const port = chip.connect({ data: (b) => { chunks.push(b); total += b.length; lastAt = Date.now(); }, disconnected: () => {} }, baud);
  const received = () => {
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    return out;
  };
  const link: RawLink = {
    chip,
    port,
    received,
    clear() { chunks = []; total = 0; },
    async waitFor(n, ms = 2000) {
      const deadline = Date.now() + ms;
      while (total < n) {
        if (Date.now() > deadline) throw new Error(`only ${total} of ${n} bytes arrived`);
        await new Promise((r) => setTimeout(r, 2));
      }
      return received();
    },
    async settle(quietMs = 30) {
      lastAt = Date.now();
      while (Date.now() - lastAt < quietMs) await new Promise((r) => setTimeout(r, 5));
      return received();
    },
    frames() {
      return new SlipDecoder().push(received());
    },
  };
  await link.settle(15);
  link.clear();
  return link;
}
