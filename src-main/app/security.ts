// Security policy of the station window, kept free of `electron` imports so it is unit-tested
// under plain Node. The Electron entry (src-main/electron/main.ts) only applies it.
import { normalize, resolve, sep } from 'node:path';

/** The UI is served from this privileged custom scheme, never from file:// (Electron checklist §18). */
export const APP_SCHEME = 'station';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Strict CSP, also sent as a response header so it holds even if the meta tag is edited. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * DevTools only in development: `STATION_DEVTOOLS=1` with an unpackaged app (npm start). A
 * packaged station never opens them, whatever its environment says.
 */
export function devToolsAllowed(isPackaged: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return !isPackaged && env.STATION_DEVTOOLS === '1';
}

/** BrowserWindow webPreferences: every hardening flag explicit, whatever Electron's defaults. DevTools off unless asked (devToolsAllowed). */
export function hardenedWebPreferences(preloadPath: string, options: { devTools?: boolean } = {}) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    devTools: options.devTools ?? false,
  } as const;
}

/**
 * Maps a station:// request URL to a file under the renderer root; null for anything that would
 * escape it (../, encoded separators) or that is not on our own host.
 */
export function resolveAppAsset(requestUrl: string, rendererRoot: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'app') return null;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.includes('\\')) return null;
  if (path === '/' || path === '') path = '/index.html';
  const root = resolve(rendererRoot);
  const file = resolve(root, normalize(`.${path}`));
  return file === root || !file.startsWith(root + sep) ? null : file;
}

/** IPC is answered only for our own top-level page (Electron checklist §17). Custom schemes have
 * an opaque origin in WHATWG URL terms, so compare scheme and host instead. */
export function isTrustedSender(frameUrl: string | undefined, isMainFrame: boolean): boolean {
  if (!frameUrl || !isMainFrame) return false;
  return isAllowedNavigation(frameUrl);
}

/** Navigation away from the app (links, drag-and-drop, redirects) is always refused. */
export function isAllowedNavigation(targetUrl: string): boolean {
  try {
    const u = new URL(targetUrl);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'app';
  } catch {
    return false;
  }
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Content type of an app asset by extension; unknown types are served as opaque bytes. */
export function contentTypeFor(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot >= 0 && CONTENT_TYPES[file.slice(dot).toLowerCase()]) || 'application/octet-stream';
}

/** Headers on every response of the app protocol (and of the UI test's server). */
export function securityHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/**
 * The renderer never needs a browser permission: serial ports are opened in main with
 * node-serialport, so Web Serial / WebUSB / WebHID, media, notifications… are all refused.
 */
export function isPermissionGranted(_permission: string): boolean {
  return false;
}

/** Command-line switches the app understands (everything else is ignored). */
export function parseAppArgs(argv: readonly string[]): { demo: boolean; dataDir: string | null } {
  let dataDir: string | null = null;
  for (const a of argv) if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length) || null;
  return { demo: argv.includes('--demo'), dataDir };
}

/** What guardNavigation needs of a web contents (structural: no electron import here). */
interface NavigationSource {
  on(event: 'will-navigate' | 'will-frame-navigate' | 'will-redirect', listener: (event: { preventDefault(): void; url?: string }, url?: string) => void): unknown;
}

/**
 * Every web contents (the station window, the hidden print window, anything else): a navigation
 * or a frame navigation away from the app and any redirect are refused (Electron checklist §13).
 */
export function guardNavigation(contents: NavigationSource): void {
  const target = (event: { url?: string }, url?: string) => event.url ?? url ?? '';
  contents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(target(event, url))) event.preventDefault();
  });
  contents.on('will-frame-navigate', (event, url) => {
    if (!isAllowedNavigation(target(event, url))) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
}
