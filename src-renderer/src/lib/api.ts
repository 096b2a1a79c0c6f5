// The renderer's view of window.station: unwraps the IpcResult envelope into a value or a typed
// StationApiError, so screens can `await api.provisionNext(port)` and branch on `err.code`.
import { STATION_METHODS, type AppEvent, type IpcErrorCode, type StationBridge, type StationHandlers, type StationMethod } from '../../../shared/ipc.ts';

export class StationApiError extends Error {
  constructor(readonly code: IpcErrorCode, message: string) {
    super(message);
    this.name = 'StationApiError';
  }
}

declare global {
  interface Window {
    station?: StationBridge;
  }
}

function bridge(): StationBridge {
  const b = window.station;
  if (!b) throw new StationApiError('internal', 'The station bridge is missing: start the app with `npm start`.');
  return b;
}

function client(): StationHandlers & { onEvent(cb: (e: AppEvent) => void): () => void } {
  const api: Record<string, unknown> = {};
  for (const method of STATION_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const call = bridge()[method as StationMethod] as (...a: unknown[]) => Promise<{ ok: boolean; value?: unknown; error?: { code: IpcErrorCode; message: string } }>;
      const reply = await call(...args);
      if (reply && reply.ok) return reply.value;
      throw new StationApiError(reply?.error?.code ?? 'internal', reply?.error?.message ?? 'No answer from the station.');
    };
  }
  api.onEvent = (cb: (e: AppEvent) => void) => bridge().onEvent(cb);
  return api as StationHandlers & { onEvent(cb: (e: AppEvent) => void): () => void };
}

export const api = client();

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
