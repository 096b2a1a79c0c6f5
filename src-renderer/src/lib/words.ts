// Plain words for the operator.
import type { Stage, UnitStatus } from '../../../shared/station/events.ts';

export const STAGE_NAMES: Record<Stage, string> = {
  detect: 'Detect',
  connect: 'Connect',
  identity: 'Identity',
  image: 'Build image',
  flash: 'Write flash',
  verify: 'Verify',
  record: 'Record',
  label: 'Label',
  done: 'Done',
};

export const STATUS_NAMES: Record<UnitStatus, string> = {
  reserved: 'Reserved',
  flashing: 'Flashing',
  verified: 'Verified',
  'label-pending': 'Label pending',
  done: 'Done',
  failed: 'Failed',
};

export const CHIP_NAMES: Record<string, string> = { esp32: 'ESP32', esp32s3: 'ESP32-S3', esp32c3: 'ESP32-C3' };

export function chipName(chip: string | null): string {
  return chip ? (CHIP_NAMES[chip] ?? chip.toUpperCase()) : 'Unknown chip';
}

export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}
