// `npm run preview`: the station's operator UI in an ordinary browser, without Electron. The built
// renderer is served on 127.0.0.1 with the app's own CSP; a small bridge script (served from the
// same origin, so the CSP holds) gives the page `window.station`, whose calls go to the very same
// handlers as Electron's IPC (src-main/app/handlers.ts) and whose events arrive as server-sent
// events. Only loopback, and every API request must carry the random token from the URL printed
// at start; the Host header must be ours (no DNS rebinding).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATION_METHODS, type AppEvent, type StationHandlers } from '../../shared/ipc.ts';
import { dispatch } from '../app/handlers.ts';
import { APP_ORIGIN, contentTypeFor, resolveAppAsset, securityHeaders } from '../app/security.ts';

export const PREVIEW_PREFIX = '/__preview/';
const MAX_BODY = 4 * 1024 * 1024;

export interface PreviewServer {
  server: Server;
  /** The address to open: http://127.0.0.1:PORT/?token=… */
  url: string;
  token: string;
  close(): Promise<void>;
}

/** The page side of the bridge: window.station over fetch + EventSource, built from the method table. */
export function bridgeScript(): string {
  return `// HomeKit Factory Station preview bridge: window.station over HTTP (see src-main/preview/server.ts).
(() => {
  const params = new URLSearchParams(location.search);
  const token = params.get('token') || sessionStorage.getItem('station-token') || '';
  sessionStorage.setItem('station-token', token);
  const methods = ${JSON.stringify(STATION_METHODS)};
  const api = {};
  for (const m of methods) {
    api[m] = async (...args) => {
      const r = await fetch('${PREVIEW_PREFIX}invoke/' + m, { method: 'POST', headers: { 'content-type': 'application/json', 'x-station-token': token }, body: JSON.stringify(args) });
      if (r.status === 403) return { ok: false, error: { code: 'untrusted-sender', message: 'Open the preview with the address it printed (it holds the access token).' } };
      return r.json();
    };
  }
  const listeners = new Set();
  const events = new EventSource('${PREVIEW_PREFIX}events?token=' + encodeURIComponent(token));
  events.onmessage = (m) => { const e = JSON.parse(m.data); for (const cb of listeners) cb(e); };
  api.onEvent = (cb) => {
    if (typeof cb !== 'function') throw new TypeError('onEvent needs a function');
    listeners.add(cb);
    return () => listeners.delete(cb);
  };
  Object.defineProperty(window, 'station', { value: Object.freeze(api), enumerable: true });
})();
`;
}

function sameToken(given: string | null | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '');
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the preview server for `handlers` (an AppCore's) on 127.0.0.1:`port` (0 = any free port);
 * `subscribe` delivers the app's events.
 */
export async function startPreview(opts: { rendererRoot: string; handlers: StationHandlers; subscribe: (cb: (e: AppEvent) => void) => () => void; port?: number }): Promise<PreviewServer> {
  if (!existsSync(join(opts.rendererRoot, 'index.html'))) throw new Error(`${opts.rendererRoot}/index.html is missing: build the UI first (npm run build)`);
  const token = randomBytes(18).toString('base64url');
  const clients = new Set<ServerResponse>();
  const unsubscribe = opts.subscribe((e) => {
    const data = `data: ${JSON.stringify(e)}\n\n`;
    for (const c of clients) c.write(data);
  });
  let host = '';
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, securityHeaders('text/plain'));
      res.end('Internal error');
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.host !== host) return void res.writeHead(421, securityHeaders('text/plain')).end('Wrong host');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === `${PREVIEW_PREFIX}bridge.js`) return void res.writeHead(200, securityHeaders('text/javascript')).end(bridgeScript());
    if (url.pathname === `${PREVIEW_PREFIX}events`) {
      if (!sameToken(url.searchParams.get('token'), token)) return void res.writeHead(403, securityHeaders('text/plain')).end('Forbidden');
      res.writeHead(200, { ...securityHeaders('text/event-stream'), Connection: 'keep-alive' });
      res.write(': connected\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (url.pathname.startsWith(`${PREVIEW_PREFIX}invoke/`)) {
      if (req.method !== 'POST' || !sameToken(req.headers['x-station-token'] as string | undefined, token)) {
        return void res.writeHead(403, securityHeaders('text/plain')).end('Forbidden');
      }
      let args: unknown;
      try {
        args = JSON.parse(await readBody(req));
      } catch {
        return void res.writeHead(400, securityHeaders('text/plain')).end('Bad request');
      }
      const result = await dispatch(opts.handlers, url.pathname.slice(`${PREVIEW_PREFIX}invoke/`.length), args);
      return void res.writeHead(200, securityHeaders('application/json')).end(JSON.stringify(result));
    }
    const file = resolveAppAsset(`${APP_ORIGIN}${url.pathname}`, opts.rendererRoot);
    if (!file || !existsSync(file)) return void res.writeHead(404, securityHeaders('text/plain')).end('Not found');
    let body: Buffer | string = readFileSync(file);
    if (file.endsWith('index.html')) {
      // The bridge must define window.station before the app's module script runs.
      body = body.toString('utf8').replace('<script type="module"', `<script src="${PREVIEW_PREFIX}bridge.js"></script>\n    <script type="module"`);
    }
    res.writeHead(200, securityHeaders(contentTypeFor(file))).end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('the preview server has no address');
  host = `127.0.0.1:${addr.port}`;
  return {
    server,
    token,
    url: `http://${host}/?token=${token}`,
    close: async () => {
      unsubscribe();
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
