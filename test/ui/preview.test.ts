// `npm run preview`: the operator UI in an ordinary browser with the real station services, over a
// loopback HTTP bridge guarded by a random token and a Host check. Driven in Chromium like a user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { startPreview, type PreviewServer } from '../../src-main/preview/server.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { launchChromium, RENDERER_ROOT } from './harness.ts';

let core: AppCore;
let preview: PreviewServer;
let context: BrowserContext;

function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  const { port } = preview.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

beforeAll(async () => {
  useOpenSslModPow();
  const dataDir = mkdtempSync(join(tmpdir(), 'hkfs-preview-test-'));
  const platform: Platform = {
    pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null,
    listPrinters: async () => [], printLabel: async () => undefined, saveLabelPdf: async () => undefined,
  };
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform });
  preview = await startPreview({ rendererRoot: RENDERER_ROOT, handlers: createHandlers(core), subscribe: (cb) => core.on(cb) });
  context = await launchChromium();
}, 180_000);

afterAll(async () => {
  await context?.close();
  await preview?.close();
  await core?.close();
});

describe('npm run preview', () => {
  it('listens on loopback only, and prints an address with its token', () => {
    expect((preview.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(preview.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{24}$/);
  });

  it('refuses API calls and events without the token, and requests for another host name', async () => {
    const port = (preview.server.address() as { port: number }).port;
    const host = `127.0.0.1:${port}`;
    expect((await raw('/__preview/invoke/getSnapshot', { method: 'POST', headers: { host }, body: '[]' })).status).toBe(403);
    expect((await raw('/__preview/invoke/getSnapshot', { method: 'POST', headers: { host, 'x-station-token': 'guess' }, body: '[]' })).status).toBe(403);
    expect((await raw('/__preview/events?token=guess', { headers: { host } })).status).toBe(403);
    expect((await raw('/index.html', { headers: { host: 'evil.example:80' } })).status).toBe(421);
    const ok = await raw('/__preview/invoke/getSnapshot', { method: 'POST', headers: { host, 'x-station-token': preview.token }, body: '[]' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, value: { demo: true } });
    const csp = await raw('/index.html', { headers: { host } });
    expect(csp.body).toContain('<script src="/__preview/bridge.js"></script>');
  });

  it('a browser opened at the printed address shows the bench and provisions a board with Enter', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(preview.url);
    await page.getByTestId('tile').first().waitFor();
    await expect.poll(() => page.getByTestId('tile').first().getAttribute('data-phase')).toBe('ready');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('tile').first().getAttribute('data-phase')).toBe('done');
    expect(await page.getByTestId('setup-code').textContent()).toMatch(/^\d{3}-\d{2}-\d{3}$/);
    expect(core.snapshot().counters.units).toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
