// Settings → Label and printer with a ZPL label printer, through the built renderer in Chromium:
// the engineer picks "ZPL label printer", types the address and resolution, saves; the profile
// file holds the printer, the preview is laid out on the printer's dot grid, and the next unit's
// label goes to the (fake) printer, which receives it once. A wrong address is refused by field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { LabelPageStore } from '../../src-main/app/label-page.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { FakeZplPrinter } from '../label/fake-zpl-printer.ts';
import { readZpl } from '../label/zpl-reader.ts';
import { installStationBridge, launchChromium, serveRenderer } from './harness.ts';

const SHOTS = 'test-results';
let core: AppCore;
let context: BrowserContext;
let page: Page;
let server: Server;
let dataDir: string;
let printer: FakeZplPrinter;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  useOpenSslModPow();
  printer = await FakeZplPrinter.start();
  dataDir = mkdtempSync(join(tmpdir(), 'hkfs-ui-zpl-'));
  const platform: Platform = {
    pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null,
    listPrinters: async () => [{ name: 'Brother_QL_820NWB', displayName: 'Brother QL-820NWB', isDefault: true }],
    printLabel: async () => { throw new Error('system print for a ZPL product'); },
    saveLabelPdf: async () => { throw new Error('PDF for a ZPL product'); },
  };
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform, stationName: 'ui-zpl', operator: 'tester' });
  let base: string;
  ({ server, base } = await serveRenderer(new LabelPageStore()));
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const push = await installStationBridge(page, createHandlers(core));
  core.on((e) => void push(e));
  await page.goto(`${base}/index.html`);
}, 180_000);

afterAll(async () => {
  await context?.close();
  server?.close();
  await core?.close();
  await printer?.close();
});

const profileFile = () => JSON.parse(readFileSync(join(dataDir, 'profiles', 'demo-profile.json'), 'utf8'));

describe('settings: ZPL label printer', () => {
  it('refuses a wrong address by field, saves a right one, and the preview follows the print head\'s dot grid', async () => {
    await page.keyboard.press('Alt+3');
    await page.getByTestId('label-preview').waitFor();
    const moduleMm = async () => Number(/scale\(([\d.]+)\)/.exec(decodeURIComponent((await page.getByTestId('label-preview').getAttribute('src'))!))![1]);
    const asPdf = await moduleMm();
    await page.getByTestId('printer-mode').selectOption('zpl');
    await page.getByTestId('zpl-host').fill('printer one');
    await page.getByTestId('save-profile').click();
    await expect.poll(() => page.getByTestId('settings-message').textContent()).toMatch(/printer\.host: must be the printer's host name or IP address/);
    expect(profileFile().printer).toEqual({ mode: 'pdf' });

    await page.getByTestId('zpl-host').fill('127.0.0.1');
    await page.getByTestId('zpl-port').fill(String(printer.port));
    await page.getByTestId('zpl-dpi').selectOption('300');
    await page.getByTestId('save-profile').click();
    await expect.poll(() => page.getByTestId('settings-message').textContent()).toMatch(/^Saved demo-profile\.json/);
    expect(profileFile().printer).toEqual({ mode: 'zpl', host: '127.0.0.1', port: printer.port, dpi: 300 });
    expect(core.snapshot().product?.printer).toEqual({ mode: 'zpl', name: `zpl://127.0.0.1:${printer.port}` });
    // The preview is now the layout for 12 dots/mm: its QR modules are whole dots (the SVG keeps 4
    // decimals). Polled: the preview may pass through the 203-dpi layout on its way (ZPL picked first).
    const offGrid = async () => {
      const dots = (await moduleMm()) * 12;
      return Math.abs(dots - Math.round(dots));
    };
    await expect.poll(offGrid).toBeLessThan(0.01);
    expect(await moduleMm()).not.toBe(asPdf);
    expect(Math.abs(asPdf * 12 - Math.round(asPdf * 12))).toBeGreaterThan(0.01);
    await page.getByTestId('zpl-bitmap-qr').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'ui-settings-zpl.png') });
  });

  it('the next unit\'s label is printed on the ZPL printer, once', async () => {
    await page.keyboard.press('Alt+1');
    const port = core.snapshot().tiles[0]!.path;
    await page.locator(`[data-testid="tile"][data-port="${port}"]`).getByTestId('tile-select').click();
    await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
    await page.keyboard.press('Enter');
    await expect.poll(() => core.snapshot().tiles[0]!.state.phase, { timeout: 20_000 }).toBe('done');
    await printer.settled();
    expect(printer.printed).toHaveLength(1);
    const unit = (await core.history.listUnits({}))[0]!;
    const label = await core.getLabel(unit.id);
    expect(readZpl(printer.printed[0]!).fields.find((f) => f.qr)?.data).toBe(`MM,A${label.payload}`);
  });
});
