// UI-test stand-in for Electron: the built renderer served over 127.0.0.1 with the app's own CSP
// headers, Debian Chromium through playwright-core, and `window.station` built in the page from the
// same STATION_METHODS table as the real preload, its calls answered by the real handlers
// (src-main/app/handlers.ts) in this process.
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { STATION_METHODS, type AppEvent, type StationHandlers } from '../../shared/ipc.ts';
import { dispatch } from '../../src-main/app/handlers.ts';
import { LabelPageStore, type LabelJob } from '../../src-main/app/label-page.ts';
import { APP_ORIGIN, contentTypeFor, resolveAppAsset, securityHeaders } from '../../src-main/app/security.ts';

export const RENDERER_ROOT = 'out/renderer';

/** Serves out/renderer (and live label pages) like the station:// protocol handler does. */
export async function serveRenderer(labelPages: LabelPageStore, root = RENDERER_ROOT): Promise<{ server: Server; base: string }> {
  // Fail at once, saying why, instead of each UI test waiting out its timeout on a blank page.
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root}/index.html is missing: run \`npm run build\` (npm test builds it first)`);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    const label = labelPages.respond(url.pathname);
    if (label) return void res.writeHead(200, securityHeaders(label.contentType)).end(label.body);
    const file = resolveAppAsset(`${APP_ORIGIN}${url.pathname}`, root);
    let body: Buffer;
    try {
      if (!file) throw new Error('outside');
      body = readFileSync(file);
    } catch {
      return void res.writeHead(404, securityHeaders('text/plain')).end('Not found');
    }
    res.writeHead(200, securityHeaders(contentTypeFor(file))).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return { server, base: `http://127.0.0.1:${addr.port}` };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** One Chromium with a fresh profile folder for the whole test file. */
export function launchChromium(): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'hkfs-chromium-'));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 768 },
  });
}

/** Names of the members the harness puts on window.station: the method table plus onEvent. */
export function harnessBridgeKeys(): string[] {
  return [...STATION_METHODS, 'onEvent'];
}

/**
 * Installs window.station in `page` (before any page script runs) and returns a function that
 * pushes main → renderer events in order, as webContents.send does.
 */
export async function installStationBridge(page: Page, handlers: StationHandlers): Promise<(e: AppEvent) => Promise<void>> {
  await page.exposeBinding('__stationInvoke', (_source, method: unknown, args: unknown) => dispatch(handlers, method, args));
  await page.addInitScript((methods: string[]) => {
    // Runs in the page (no DOM types in the Node tsconfig, hence globalThis).
    const w = globalThis as unknown as Record<string, unknown>;
    const invoke = (m: string, a: unknown[]) => (w.__stationInvoke as (m: string, a: unknown[]) => Promise<unknown>)(m, a);
    const listeners = new Set<(e: unknown) => void>();
    Object.defineProperty(w, '__stationEmit', { value: (e: unknown) => listeners.forEach((cb) => cb(e)) });
    const api: Record<string, unknown> = {};
    for (const m of methods) api[m] = (...args: unknown[]) => invoke(m, args);
    api.onEvent = (cb: (e: unknown) => void) => {
      if (typeof cb !== 'function') throw new TypeError('onEvent needs a function');
      listeners.add(cb);
      return () => listeners.delete(cb);
    };
    Object.defineProperty(w, 'station', { value: Object.freeze(api), enumerable: true });
  }, [...STATION_METHODS]);
  let chain = Promise.resolve();
  return (e: AppEvent) => {
    chain = chain.then(() => page.evaluate((ev) => (globalThis as unknown as { __stationEmit(x: unknown): void }).__stationEmit(ev), e as unknown)).catch(() => undefined);
    return chain;
  };
}

export interface UiSession {
  context: BrowserContext;
  page: Page;
  server: Server;
  base: string;
  labelPages: LabelPageStore;
  /** Console errors/warnings and page errors seen so far (CSP violations show up here). */
  problems: string[];
  /** Chromium's print-to-PDF of the label page: what Electron's printToPDF renders. */
  printPdf(job: LabelJob, path: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the built renderer, starts Chromium and opens the app in it with window.station backed
 * by `handlers`; `subscribe` delivers main → renderer events. Fails at once, with the reason,
 * when the renderer was not built.
 */
export async function openUi(handlers: StationHandlers, subscribe: (push: (e: AppEvent) => void) => void, viewport = { width: 1366, height: 768 }): Promise<UiSession> {
  const labelPages = new LabelPageStore();
  const { server, base } = await serveRenderer(labelPages);
  const context = await launchChromium();
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize(viewport);
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  const push = await installStationBridge(page, handlers);
  subscribe((e) => void push(e));
  await page.goto(`${base}/index.html`);
  const printPdf = async (job: LabelJob, path: string) => {
    const { id, htmlPath } = labelPages.add(job);
    const p = await context.newPage();
    try {
      await p.goto(`${base}${htmlPath}`, { waitUntil: 'load' });
      await p.pdf({ path, preferCSSPageSize: true, printBackground: true, margin: { top: '0', bottom: '0', left: '0', right: '0' } });
    } finally {
      labelPages.remove(id);
      await p.close();
    }
  };
  return {
    context, page, server, base, labelPages, problems, printPdf,
    async close() {
      await context.close();
      server.close();
    },
  };
}

/**
 * Waits until every tile on screen shows the phase the station's model has for its slot (the
 * renderer is a pure view: events may lag, never disagree for long). Returns the phases.
 */
export async function screenMatchesModel(page: Page, model: () => { slot: number; plugged: boolean; state: { phase: string } }[], timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    const screen = await page.locator('[data-testid="tile"]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-slot')}:${e.getAttribute('data-phase')}`).join(' '));
    const want = model().map((t) => `${t.slot}:${t.plugged ? t.state.phase : 'empty'}`).join(' ');
    if (screen === want) return;
    last = `screen ${screen} ≠ model ${want}`;
    if (Date.now() > deadline) throw new Error(`the tiles do not show the station's model: ${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
