// USB barcode scanners are keyboards: scanning a label "types" X-HM://… and Enter. This collects
// such input outside text fields so a scan reaches the station (operator screen: the selected
// tile's scan-back; history: the search), while single-key shortcuts keep working: a key that
// cannot continue a label payload ends collection and is handled as a shortcut.
import { looksLikeScanStart, payloadFromScan } from '../../../shared/station/scan.ts';

/** A human pauses longer than this between keys; a scanner never does. */
const MAX_GAP_MS = 1000;
const PAYLOAD_CHAR = /^[0-9A-Za-z]$/;

export type ScanKey = { kind: 'pass' } | { kind: 'swallow' } | { kind: 'scan'; text: string; payload: string | null };

export class ScanCollector {
  private buffer = '';
  private last = 0;

  /** True while a scan is being typed (shortcuts must not fire). */
  get collecting(): boolean {
    return this.buffer.length > 0;
  }

  reset(): void {
    this.buffer = '';
  }

  /**
   * Feeds one key. `pass`: not part of a scan (handle it as usual); `swallow`: taken into the scan;
   * `scan`: Enter ended a scan — `payload` is the label's payload or null when it is not a label.
   */
  key(key: string, now = Date.now()): ScanKey {
    if (this.buffer && now - this.last > MAX_GAP_MS) this.buffer = '';
    this.last = now;
    if (key === 'Enter' && this.buffer) {
      const text = this.buffer;
      this.buffer = '';
      return { kind: 'scan', text, payload: payloadFromScan(text) };
    }
    if (key === 'Escape' && this.buffer) {
      this.buffer = '';
      return { kind: 'swallow' };
    }
    if (key.length !== 1) return this.buffer ? { kind: 'swallow' } : { kind: 'pass' };
    const next = this.buffer + key;
    const inPrefix = next.length <= 7 ? looksLikeScanStart(next) : PAYLOAD_CHAR.test(key) && looksLikeScanStart(next);
    if (inPrefix && next.length <= 64) {
      this.buffer = next;
      return { kind: 'swallow' };
    }
    const wasCollecting = this.buffer.length > 0;
    this.buffer = '';
    // A stray key in the middle of a scan ends it quietly; outside a scan it is a shortcut.
    return wasCollecting ? { kind: 'swallow' } : { kind: 'pass' };
  }
}
