import { contextBridge } from 'electron';
contextBridge.exposeInMainWorld('station', Object.freeze({}));
