// Scan-back: what a USB barcode scanner typed when the operator scanned a printed label, and
// whether that label belongs on the board of the tile it was scanned on. Pure, so the renderer can
// tell scanner input from typing and the station decides in one place.

/** A HomeKit setup payload: X-HM:// + 9 header characters + 4-character setup ID (+ 18 product-data characters). */
const PAYLOAD_RE = /^X-HM:\/\/[0-9A-Z]{13}(?:[0-9A-Z]{18})?$/;

/**
 * The setup payload in scanned text, or null when it is not a HomeKit label. Scanners differ in
 * case handling (caps lock) and may add spaces or a trailing CR/LF; the payload itself is upper case.
 */
export function payloadFromScan(text: string): string | null {
  const t = text.trim().toUpperCase();
  return PAYLOAD_RE.test(t) ? t : null;
}

/** True when typed text looks like the start of a scanned label (so the UI can collect it). */
export function looksLikeScanStart(text: string): boolean {
  const t = text.toUpperCase();
  return 'X-HM://'.startsWith(t.slice(0, 7)) && t.length > 0;
}

/** The setup ID inside a payload (the 4 characters after the header). */
export function setupIdOfPayload(payload: string): string {
  return payload.slice('X-HM://'.length + 9, 'X-HM://'.length + 13);
}

export type ScanRefusal = 'not-a-label' | 'unknown-label' | 'other-unit';

export interface ScanUnit {
  id: number;
  slot: number | null;
}

/**
 * The verdict for a label scanned on a tile whose board holds `tileUnit`: null when it matches,
 * else why not, in words for a full-tile error. Never repeats the payload (it encodes the code).
 */
export function scanVerdict(
  payload: string | null,
  labelUnit: ScanUnit | undefined,
  tileUnit: ScanUnit,
  tileSlot: number | null,
): { code: ScanRefusal; message: string; nextStep: string } | null {
  const here = tileSlot === null ? `unit ${tileUnit.id}` : `the board in slot ${tileSlot} (unit ${tileUnit.id})`;
  const board = `this board is unit ${tileUnit.id}`;
  if (payload === null) {
    return { code: 'not-a-label', message: `Not a HomeKit label — ${board}.`, nextStep: `Scan the QR code on the label of ${here}.` };
  }
  if (!labelUnit) {
    return { code: 'unknown-label', message: `Unknown label (not from this station) — ${board}.`, nextStep: `Take that label away; scan the label of ${here}.` };
  }
  if (labelUnit.id !== tileUnit.id) {
    const where = labelUnit.slot === null ? '' : ` (slot ${labelUnit.slot})`;
    return {
      code: 'other-unit',
      message: `Label of unit ${labelUnit.id}${where} — ${board}.`,
      nextStep: `Do not stick it on this board. Find the label of unit ${tileUnit.id}, or press Print again.`,
    };
  }
  return null;
}
