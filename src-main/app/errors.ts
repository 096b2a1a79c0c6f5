// Errors as they cross the IPC bridge: a code the UI can branch on and a message an operator can read.
import type { IpcError, IpcErrorCode } from '../../shared/ipc.ts';
import { ProfileError } from '../../shared/station/profile.ts';
import { LabelLayoutError } from '../../shared/label/index.ts';
import { FlashError } from '../flash/index.ts';
import { StationError } from '../station/station.ts';
import { ValidationError } from './validate.ts';

/** An app-level refusal with its bridge code (locked profile, unknown port, printer problem…). */
export class AppError extends Error {
  constructor(readonly code: IpcErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
  }
}

export function toIpcError(err: unknown): IpcError {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  if (err instanceof ValidationError) return { code: 'invalid-argument', message: `Invalid request — ${err.message}` };
  if (err instanceof ProfileError) return { code: 'profile-invalid', message: err.message };
  if (err instanceof LabelLayoutError) return { code: 'profile-invalid', message: `Label: ${err.message}` };
  if (err instanceof StationError) return { code: 'station', message: `${err.message} ${err.nextStep}` };
  if (err instanceof FlashError) return { code: 'station', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `The station hit an unexpected problem: ${message}` };
}
