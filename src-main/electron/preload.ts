// Sandboxed preload: exposes only `window.station`, built from the method table in shared/ipc.ts.
// The renderer never sees ipcRenderer, Node, or an IpcRendererEvent.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY, EVENT_CHANNEL, buildStationBridge, invokeChannel, type AppEvent } from '../../shared/ipc.ts';

const bridge = buildStationBridge(
  (method, args) => ipcRenderer.invoke(invokeChannel(method), ...args),
  (callback) => {
    const listener = (_event: unknown, payload: AppEvent) => callback(payload);
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, listener);
    };
  },
);

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
