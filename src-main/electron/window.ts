// The single station window: hardened webPreferences, UI from station://app, navigation, new
// windows and every permission (including serial / USB / HID device access) refused.
import { app, BrowserWindow, session, type Session } from 'electron';
import { APP_ENTRY_URL, devToolsAllowed, guardNavigation, hardenedWebPreferences, isAllowedNavigation, isPermissionGranted } from '../app/security.ts';

/** Denies every permission request / check and device access on a session. */
export function lockDownSession(ses: Session): void {
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(isPermissionGranted(permission)));
  ses.setPermissionCheckHandler((_wc, permission) => isPermissionGranted(permission));
  ses.setDevicePermissionHandler(() => false);
  ses.setUSBProtectedClassesHandler(() => ['audio', 'audio-video', 'hid', 'mass-storage', 'smart-card', 'video', 'wireless']);
  ses.on('select-serial-port', (event, _ports, _wc, callback) => {
    event.preventDefault();
    callback('');
  });
  ses.on('select-usb-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.on('select-hid-device', (event, _details, callback) => {
    event.preventDefault();
    callback();
  });
  ses.on('will-download', (event) => event.preventDefault());
}

export function createMainWindow(preloadPath: string): BrowserWindow {
  lockDownSession(session.defaultSession);
  const win = new BrowserWindow({
    width: 1366,
    height: 768,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'HomeKit Factory Station',
    backgroundColor: '#f4f5f7',
    webPreferences: hardenedWebPreferences(preloadPath, { devTools: devToolsAllowed(app.isPackaged, process.env) }),
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url) || url.split('#')[0] !== APP_ENTRY_URL) event.preventDefault();
  });
  win.webContents.on('will-redirect', (event) => event.preventDefault());
  guardNavigation(win.webContents); // frame navigations too
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY_URL);
  return win;
}
