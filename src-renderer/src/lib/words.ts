// Plain words for the operator, and the colour (tone) of each port phase on its tile.
import type { Failure, PortPhase, PortState, Stage, UnitStatus } from '../../../shared/ipc.ts';
import { chipDisplayName } from '../../../shared/chips.ts';

export const STAGE_NAMES: Record<Stage, string> = {
  detect: 'Detect',
  connect: 'Connect',
  identity: 'Identity',
  image: 'Build image',
  flash: 'Write flash',
  verify: 'Verify',
  record: 'Record',
  'boot-check': 'Boot check',
  label: 'Label',
  done: 'Done',
};

export type Tone = 'empty' | 'ready' | 'run' | 'warn' | 'bad' | 'ok';

/** The big status word of a tile (short: it is read from 2 m at ≥ 48 px) and its tone. */
export const PHASE_WORDS: Record<PortPhase, { word: string; tone: Tone }> = {
  empty: { word: 'No board', tone: 'empty' },
  ready: { word: 'Ready', tone: 'ready' },
  detect: { word: 'Starting', tone: 'run' },
  connect: { word: 'Starting', tone: 'run' },
  identity: { word: 'Starting', tone: 'run' },
  image: { word: 'Starting', tone: 'run' },
  flash: { word: 'Writing', tone: 'run' },
  verify: { word: 'Verifying', tone: 'run' },
  record: { word: 'Saving', tone: 'run' },
  'boot-check': { word: 'Booting', tone: 'run' },
  label: { word: 'Saving', tone: 'run' },
  'needs-confirmation': { word: 'Confirm', tone: 'warn' },
  failed: { word: 'Failed', tone: 'bad' },
  'label-pending': { word: 'Printing', tone: 'warn' },
  printing: { word: 'Printing', tone: 'warn' },
  'print-failed': { word: 'No label', tone: 'warn' },
  'awaiting-scan': { word: 'Scan', tone: 'warn' },
  'scan-mismatch': { word: 'Wrong label', tone: 'bad' },
  done: { word: 'Done', tone: 'ok' },
};

/** A few words for a tile (the full message and next step are in the selected slot's panel). */
const FAILURE_WORDS: Record<string, string> = {
  'no-download-mode': 'Not in download mode',
  'port-busy': 'Port used by another program',
  'port-not-found': 'Port not found',
  unplugged: 'Unplugged during the run',
  'wrong-chip': 'Wrong chip for this product',
  'wrong-device': 'Another board answered',
  'wrong-unit': 'Not the unit being retried',
  'verify-mismatch': 'Flash check failed',
  'flash-too-small': 'Flash too small',
  timeout: 'Board stopped answering',
  protocol: 'Garbled answers',
  cancelled: 'Cancelled',
  printer: 'Printer failed',
  'boot-crash': 'Firmware crashed',
  'boot-missing': 'Boot log incomplete',
  'boot-silent': 'Firmware silent',
  'boot-mismatch': 'Firmware has other data',
  'boot-no-reset': 'Could not start firmware',
};

export function failureWords(failure: Failure): string {
  // Scan refusals are already short and say which unit the label belongs to.
  if (failure.stage === 'label' && failure.code !== 'printer') return failure.message;
  return FAILURE_WORDS[failure.code] ?? `Failed at: ${STAGE_NAMES[failure.stage]}`;
}

/** The verified unit's label can be shown and printed again. */
export function hasLabel(state: PortState): boolean {
  return !!state.unit && ['label-pending', 'printing', 'print-failed', 'awaiting-scan', 'scan-mismatch', 'done'].includes(state.phase);
}

export const STATUS_NAMES: Record<UnitStatus, string> = {
  reserved: 'Reserved',
  flashing: 'Flashing',
  verified: 'Verified',
  'label-pending': 'Label pending',
  'label-printed': 'Label printed, not scanned',
  done: 'Done',
  failed: 'Failed',
};

/** 'esp32s3' → 'ESP32-S3' (the chip table's name). */
export function chipName(chip: string | null): string {
  return chip ? chipDisplayName(chip) : 'Chip not read yet';
}

/** 24:0a:c4:… → 24:0A:C4:… (the form on the label). */
export function macText(mac: string | null): string {
  return mac ? mac.toUpperCase() : 'MAC not read yet';
}

export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** A table's time to the minute: today's as the time alone, an earlier day's as "Dec 4, 16:05" (shortTime, with seconds, in its tooltip). */
export function tableTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(undefined, { timeStyle: 'short' });
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}
