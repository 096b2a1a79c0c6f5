// Registers every station method on ipcMain: the sender is checked first (our own top-level page
// on station://app only), then the handler validates the arguments and the answer goes back as an
// IpcResult envelope. Events go out on one channel to the main window only.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { EVENT_CHANNEL, STATION_METHODS, invokeChannel, type AppEvent, type StationHandlers } from '../../shared/ipc.ts';
import { dispatch } from '../app/handlers.ts';
import { isTrustedSender } from '../app/security.ts';

function trusted(event: IpcMainInvokeEvent, window: () => WebContents | null): boolean {
  const frame = event.senderFrame;
  const main = window();
  if (!frame || !main || event.sender !== main) return false;
  return isTrustedSender(frame.url, frame === event.sender.mainFrame);
}

export function registerIpc(handlers: StationHandlers, window: () => WebContents | null): () => void {
  for (const method of STATION_METHODS) {
    ipcMain.handle(invokeChannel(method), (event, ...args: unknown[]) => {
      if (!trusted(event, window)) return { ok: false, error: { code: 'untrusted-sender', message: 'Refused: this request did not come from the station window.' } };
      return dispatch(handlers, method, args);
    });
  }
  return () => {
    for (const method of STATION_METHODS) ipcMain.removeHandler(invokeChannel(method));
  };
}

export function sendEvent(window: WebContents | null, event: AppEvent): void {
  if (window && !window.isDestroyed()) window.send(EVENT_CHANNEL, event);
}
