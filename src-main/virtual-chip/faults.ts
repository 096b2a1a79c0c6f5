// Faults a test or the demo can inject into a virtual chip (unplug or stall after N bytes, one
// flipped bit on the way into flash, never entering download mode), and the bookkeeping of which
// are pending. What a fault does to the chip when it fires is the chip's business (chip.ts).

export type VirtualFault =
  | { kind: 'unplug'; afterBytes: number }
  | { kind: 'corrupt-write'; offset?: number }
  | { kind: 'stall'; afterBytes?: number }
  | { kind: 'no-download-mode' };

export interface ActiveFault {
  fault: VirtualFault;
  /** Bytes that may still cross the wire before a byte-counted fault fires. */
  remaining: number;
}

export class FaultList {
  private faults: ActiveFault[] = [];

  get active(): VirtualFault[] {
    return this.faults.map((f) => f.fault);
  }

  /** Adds a fault; returns it when it must fire at once (a byte-counted fault with 0 bytes to go). */
  add(fault: VirtualFault): ActiveFault | null {
    const after = fault.kind === 'unplug' ? fault.afterBytes : fault.kind === 'stall' ? (fault.afterBytes ?? 0) : 0;
    if (!Number.isInteger(after) || after < 0) throw new RangeError('afterBytes must be a non-negative integer');
    const active = { fault, remaining: after };
    this.faults.push(active);
    return (fault.kind === 'stall' || fault.kind === 'unplug') && after === 0 ? active : null;
  }

  clear(): void {
    this.faults = [];
  }

  has(kind: VirtualFault['kind']): boolean {
    return this.faults.some((f) => f.fault.kind === kind);
  }

  /** Removes `f`; false if it was no longer pending. */
  take(f: ActiveFault): boolean {
    if (!this.faults.includes(f)) return false;
    this.faults = this.faults.filter((x) => x !== f);
    return true;
  }

  /**
   * Counts `n` bytes crossing the wire against byte-triggered faults. Returns how many may pass and
   * the faults whose budget is now spent (to fire once the allowed bytes were delivered).
   */
  spend(n: number): { allowed: number; due: ActiveFault[] } {
    const counted = this.faults.filter((f) => f.fault.kind === 'unplug' || f.fault.kind === 'stall');
    let allowed = n;
    for (const f of counted) allowed = Math.min(allowed, f.remaining);
    const due: ActiveFault[] = [];
    for (const f of counted) {
      f.remaining -= allowed;
      if (f.remaining <= 0) due.push(f);
    }
    return { allowed, due };
  }

  /** A pending corrupt-write that hits [offset, offset + data.length) flips one bit there, once. */
  corrupt(offset: number, data: Uint8Array): { data: Uint8Array; at?: number } {
    const idx = this.faults.findIndex((f) => f.fault.kind === 'corrupt-write');
    if (idx < 0 || data.length === 0) return { data };
    const fault = this.faults[idx].fault as { kind: 'corrupt-write'; offset?: number };
    const target = fault.offset ?? offset;
    if (target < offset || target >= offset + data.length) return { data };
    this.faults.splice(idx, 1);
    const copy = new Uint8Array(data);
    copy[target - offset] ^= 0x01; // one flipped bit, as a marginal cell would
    return { data: copy, at: target };
  }
}
