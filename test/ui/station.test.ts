// End-to-end through the built renderer: Debian Chromium drives out/renderer, window.station is
// answered by the real handlers + station services on virtual chips (no mocks of the station).
// Independent checks: the label QR is decoded from a screenshot with jsQR, the displayed setup code
// pairs (fast-srp-hap) with salt + verifier read back from the virtual flash with the NVS reader,
// label PDFs from Chromium's print pipeline are measured with pdfinfo and decoded via pdftoppm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { LabelPageStore, type LabelJob } from '../../src-main/app/label-page.ts';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { decodeQr, readPng, rasterisePdf } from '../label/raster.ts';
import { installStationBridge, launchChromium, serveRenderer } from './harness.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { main as cliMain } from '../../src-main/cli/factory-station.ts';
import { parsePoolManifest } from '../../shared/station/manifest.ts';

// The demo profile's partition table puts factory_nvs at 0x340000, 0x6000 bytes (HOMEKIT_PARTITION_CSV).
const FACTORY_NVS = { offset: 0x340000, size: 0x6000 };
const SHOTS = 'test-results';

/** The few page globals the init script touches. */
interface PageGlobals {
  document: { querySelector(sel: string): { firstChild: { textContent: string | null } | null } | null };
  MutationObserver: new (cb: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
}

let core: AppCore;
let context: BrowserContext;
let page: Page;
let server: Server;
let base: string;
let dataDir: string;
const labelPages = new LabelPageStore();
const problems: string[] = [];
const printedPdfs: string[] = [];
/** What the (test) open dialog returns for "Import batch manifest…". */
let nextPoolManifest: string | null = null;

/** Chromium's print-to-PDF on the label page, exactly what Electron's printToPDF gets to render. */
async function chromiumPdf(job: LabelJob, path: string): Promise<void> {
  const { id, htmlPath } = labelPages.add(job);
  const p = await context.newPage();
  try {
    await p.goto(`${base}${htmlPath}`, { waitUntil: 'load' });
    await p.pdf({ path, preferCSSPageSize: true, printBackground: true, margin: { top: '0', bottom: '0', left: '0', right: '0' } });
    printedPdfs.push(path);
  } finally {
    labelPages.remove(id);
    await p.close();
  }
}

function unitRow(id: number): { payload: string; setup_code: string; setup_id: string; mac: string; status: string } {
  const db = new Database(join(dataDir, 'production.db'), { readonly: true });
  try {
    return db.prepare('SELECT payload, setup_code, setup_id, mac, status FROM units WHERE id = ?').get(id) as never;
  } finally {
    db.close();
  }
}

function virtualNvs(port: string): Uint8Array {
  const chip = core.bench.registry.get(port);
  if (!chip) throw new Error(`no chip on ${port}`);
  return chip.flash.slice(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
}

/** Screenshot of the label image on screen, decoded by jsQR. */
async function qrOnScreen(): Promise<string | null> {
  const shot = await page.getByTestId('result').getByTestId('label-image').screenshot();
  return decodeQr(readPng(shot));
}

async function selectPort(path: string): Promise<void> {
  await page.locator(`[data-testid="tile"][data-port="${path}"]`).getByTestId('tile-select').click();
}

/** Enter from anywhere but a text field acts on the selected slot. */
async function provisionWithKeyboard(): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
  await page.keyboard.press('Enter');
}

async function resultUnitId(): Promise<number> {
  await page.getByTestId('result').waitFor();
  return Number(await page.getByTestId('result').getAttribute('data-unit-id'));
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  useOpenSslModPow();
  dataDir = mkdtempSync(join(tmpdir(), 'hkfs-ui-'));
  const platform: Platform = {
    pickFile: async () => null,
    pickManifestPath: async (name) => join(dataDir, name),
    pickPoolManifest: async () => nextPoolManifest,
    listPrinters: async () => [{ name: 'Brother_QL_820NWB', displayName: 'Brother QL-820NWB', isDefault: true }],
    printLabel: async () => undefined,
    saveLabelPdf: chromiumPdf,
  };
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform, stationName: 'ui-test', operator: 'tester' });
  ({ server, base } = await serveRenderer(labelPages));
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Record every stage the progress panel shows (the virtual chips are fast).
  // (Runs in the page; the Node tsconfig has no DOM types, hence the loose globalThis access.)
  await page.addInitScript(() => {
    const g = globalThis as unknown as PageGlobals;
    const seen: string[] = [];
    Object.defineProperty(g, '__stagesSeen', { value: seen });
    new g.MutationObserver(() => {
      const t = g.document.querySelector('[data-testid="progress"] .current')?.firstChild?.textContent?.trim();
      if (t && seen.at(-1) !== t) seen.push(t);
    }).observe(g.document, { subtree: true, childList: true, characterData: true });
  });
  const push = await installStationBridge(page, createHandlers(core));
  core.on((e) => void push(e));
  await page.goto(`${base}/index.html`);
}, 180_000);

afterAll(async () => {
  await context?.close();
  server?.close();
  await core?.close();
});

describe('station UI on virtual chips (built renderer in Chromium)', () => {
  let firstPort: string;
  let firstUnit: number;
  let firstCode: string;

  it('shows the product and the demo ESP32 as slot 1 with its MAC', async () => {
    await expect.poll(() => page.getByTestId('product-name').textContent()).toContain('Demo Smart Plug');
    await page.getByTestId('tile').first().waitFor();
    firstPort = (await page.getByTestId('tile').first().getAttribute('data-port'))!;
    expect(firstPort).toMatch(/^virtual:esp32-\d+$/);
    expect(await page.getByTestId('tile').first().getAttribute('data-slot')).toBe('1');
    expect(await page.getByTestId('tile').first().textContent()).toContain(core.bench.registry.get(firstPort)!.options.mac.toUpperCase());
  });

  it('provisions with the keyboard: progress, label QR = DB payload, code pairs with the virtual flash', async () => {
    await provisionWithKeyboard();
    firstUnit = await resultUnitId();
    const stages = await page.evaluate(() => (globalThis as unknown as { __stagesSeen: string[] }).__stagesSeen);
    expect(stages).toContain('Connect');
    expect(stages.length).toBeGreaterThanOrEqual(3);

    const row = unitRow(firstUnit);
    expect(await qrOnScreen()).toBe(row.payload);
    firstCode = (await page.getByTestId('setup-code').textContent())!.trim();
    expect(firstCode.replaceAll('-', '')).toBe(row.setup_code.replaceAll('-', ''));
    expect(await page.getByTestId('setup-id').textContent()).toBe(row.setup_id);

    const nvs = readNvsImage(virtualNvs(firstPort));
    const salt = findBlob(nvs, 'hap_setup', 'setup_salt')!;
    const verifier = findBlob(nvs, 'hap_setup', 'setup_verifier')!;
    expect(new TextDecoder().decode(findBlob(nvs, 'hap_setup', 'setup_id'))).toContain(row.setup_id);
    expect(pairSetup(salt, verifier, firstCode)).toEqual({ ok: true });
    const wrong = firstCode.endsWith('1') ? `${firstCode.slice(0, -1)}2` : `${firstCode.slice(0, -1)}1`;
    expect(pairSetup(salt, verifier, wrong).ok).toBe(false);

    // Label output path: the unit leaves "label pending" only once the PDF exists.
    await expect.poll(() => page.getByTestId('label-state').textContent()).toContain('Saved as PDF');
    expect(unitRow(firstUnit).status).toBe('done');
    await page.screenshot({ path: join(SHOTS, 'ui-operator.png') });
  });

  it('label PDFs from the print pipeline have the label size and a QR that decodes', async () => {
    const pdf = printedPdfs.at(-1)!;
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(info)!;
    // 40 × 30 mm = 113.39 × 85.04 pt; Chromium rounds the page to whole device pixels (~0.1 mm).
    expect(Math.abs(Number(w) - (40 * 72) / 25.4)).toBeLessThan(0.6);
    expect(Math.abs(Number(h) - (30 * 72) / 25.4)).toBeLessThan(0.6);
    expect(info).toMatch(/Pages:\s+1\n/);
    const [raster] = rasterisePdf(readFileSync(pdf), 300);
    expect(decodeQr(raster!)).toBe(unitRow(firstUnit).payload);

    // Other sizes through the same page + print call.
    const label = await core.getLabel(firstUnit);
    for (const size of [{ widthMm: 25, heightMm: 25 }, { widthMm: 50, heightMm: 25 }]) {
      const path = join(dataDir, `size-${size.widthMm}x${size.heightMm}.pdf`);
      await chromiumPdf({ svg: label.labelSvg, size }, path);
      const m = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(execFileSync('pdfinfo', [path], { encoding: 'utf8' }))!;
      expect(Math.abs(Number(m[1]) - (size.widthMm * 72) / 25.4)).toBeLessThan(0.6);
      expect(Math.abs(Number(m[2]) - (size.heightMm * 72) / 25.4)).toBeLessThan(0.6);
    }
  });

  it('a second unit gets a different identity', async () => {
    await page.getByTestId('add-esp32s3').click();
    const card = page.locator('[data-testid="tile"][data-port^="virtual:esp32s3-"]');
    await card.waitFor();
    await card.getByTestId('tile-select').click();
    await page.getByTestId('provision').click();
    const second = await resultUnitId();
    expect(second).not.toBe(firstUnit);
    const a = unitRow(firstUnit);
    const b = unitRow(second);
    expect(b.setup_code).not.toBe(a.setup_code);
    expect(b.mac).not.toBe(a.mac);
    expect(await qrOnScreen()).toBe(b.payload);
    await expect.poll(() => page.getByTestId('count-units').textContent()).toBe('2');
  });

  it('a re-plugged unit is offered a re-flash of its own identity', async () => {
    await selectPort(firstPort);
    await page.getByTestId('demo-unplug').click();
    await page.getByTestId('demo-replug').click();
    await page.getByTestId('demo-unplug').waitFor();
    await page.getByTestId('provision').click();
    const dialog = page.getByTestId('reflash-confirm');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(unitRow(firstUnit).setup_id);
    await page.screenshot({ path: join(SHOTS, 'ui-operator-confirm.png') });
    await page.keyboard.press('y');
    const id = await resultUnitId();
    expect(id).toBe(firstUnit);
    expect(await page.getByTestId('result').textContent()).toContain('Re-flashed with its own identity');
    expect((await page.getByTestId('setup-code').textContent())!.trim()).toBe(firstCode);
  });

  it('an injected fault shows a readable error and Retry succeeds', async () => {
    await page.getByTestId('add-esp32c3').click();
    const card = page.locator('[data-testid="tile"][data-port^="virtual:esp32c3-"]');
    await card.waitFor();
    await card.getByTestId('tile-select').click();
    await page.getByTestId('fault-kind').selectOption('corrupt-write');
    await page.getByTestId('inject-fault').click();
    await page.getByTestId('provision').click();
    const failure = page.getByTestId('failure');
    await failure.waitFor();
    const text = (await page.getByTestId('failure-message').textContent())!;
    expect(text).toMatch(/Verif/i);
    expect(await failure.textContent()).toContain('Next step');
    await page.screenshot({ path: join(SHOTS, 'ui-operator-failure.png') });
    await page.keyboard.press('r');
    const id = await resultUnitId();
    const row = unitRow(id);
    expect(row.status).not.toBe('failed');
    expect(await qrOnScreen()).toBe(row.payload);
    expect(await page.getByTestId('count-failures').textContent()).toBe('1');
  });

  it('firmware that panics fails at the boot check (no label, the crash line shown, the log in History); Retry completes with the same identity', async () => {
    const card = page.locator('[data-testid="tile"][data-port^="virtual:esp32c3-"]');
    await card.getByTestId('tile-select').click();
    const serial = (await card.getByTestId('tile-serial').textContent())!.trim();
    expect(serial).toMatch(/^PLUG-\d{6}$/);
    const unitId = Number(await card.getByTestId('tile-unit').textContent());
    await page.getByTestId('fault-kind').selectOption('firmware-panic');
    await page.getByTestId('inject-fault').click();
    await page.getByTestId('provision').click();
    await page.getByTestId('reflash-confirm').waitFor();
    await page.keyboard.press('y');
    await page.getByTestId('failure').waitFor();
    expect(await page.getByTestId('failure-message').textContent()).toMatch(/Boot check: the firmware printed "Guru Meditation Error: Core {2}0 panic'ed/);
    expect(await card.getByTestId('tile-status').textContent()).toBe('Failed');
    expect(await card.getByTestId('tile-message').textContent()).toBe('Firmware crashed');
    expect(unitRow(unitId).status).toBe('failed');

    await page.keyboard.press('Alt+2');
    await page.getByTestId('view-failed').click();
    const log = page.getByTestId('boot-log').first();
    await log.waitFor();
    await log.locator('summary').click();
    expect(await log.textContent()).toContain("Guru Meditation Error: Core  0 panic'ed");
    expect(await log.textContent()).not.toContain(unitRow(unitId).setup_code);
    await page.getByTestId('view-units').click();
    await page.keyboard.press('Alt+1');

    await card.getByTestId('tile-select').click();
    await page.keyboard.press('r');
    expect(await resultUnitId()).toBe(unitId);
    expect((await card.getByTestId('tile-serial').textContent())!.trim()).toBe(serial);
    expect(unitRow(unitId).status).not.toBe('failed');
  });

  it('history: search by setup ID, reprint, export the manifest', async () => {
    await page.keyboard.press('Alt+2');
    await page.getByTestId('history-table').waitFor();
    await expect.poll(() => page.getByTestId('history-row').count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, 'ui-history.png') });
    const first = unitRow(firstUnit);
    await page.getByTestId('filter-query').fill(first.setup_id);
    await page.getByTestId('search').click();
    await expect.poll(() => page.getByTestId('history-row').count()).toBe(1);
    await page.getByTestId('reprint').click();
    await expect.poll(() => page.getByTestId('history-message').textContent()).toContain('saved');
    await page.getByTestId('export-manifest').click();
    await expect.poll(() => page.getByTestId('history-message').textContent()).toContain('Manifest exported');
    const path = (await page.getByTestId('history-message').textContent())!.replace(/^.*exported to /, '').trim();
    expect(existsSync(path)).toBe(true);
    const csv = readFileSync(path, 'utf8').trim().split(/\r?\n/);
    expect(csv).toHaveLength(4);
    expect(csv.some((l) => l.includes(first.mac) && l.includes(first.setup_id))).toBe(true);
  });

  it('settings: the label preview renders at real size and the printer list comes from the OS', async () => {
    await page.keyboard.press('Alt+3');
    const img = page.getByTestId('label-preview');
    await img.waitFor();
    const box = (await img.boundingBox())!;
    // CSS mm: 40 mm = 151.2 px at 96 px/in (plus the 1 px border on each side).
    expect(Math.abs(box.width - (40 / 25.4) * 96 - 2)).toBeLessThan(1.5);
    expect(await page.getByTestId('printer').textContent()).toContain('Brother QL-820NWB');
    await page.screenshot({ path: join(SHOTS, 'ui-settings.png') });
  });

  it('settings → identity pool: import a batch manifest, switch to pool identities; the next unit gets the first one', async () => {
    // A batch run offline for this product (the demo profile: category 7).
    const io = memoryIO(dataDir);
    expect(await cliMain(['batch', '--count', '3', '--prefix', 'Plug', '--cid', '7', '--size', '0x6000', '--outdir', 'batch', '--labels', 'none'], io), io.err).toBe(0);
    const manifestName = readdirSync(join(dataDir, 'batch')).find((f) => f.startsWith('homekit_manifest_'))!;
    const manifest = parsePoolManifest(readFileSync(join(dataDir, 'batch', manifestName), 'utf8'));

    await page.keyboard.press('Alt+3');
    const panel = page.getByTestId('pool-panel');
    await expect.poll(() => panel.getByTestId('pool-remaining').textContent()).toContain('0 identities');
    nextPoolManifest = join(dataDir, 'batch', manifestName);
    await panel.getByTestId('import-pool').click();
    await expect.poll(() => panel.getByTestId('pool-message').textContent()).toBe(`Imported 3 identities from ${manifestName}; 3 in the pool.`);
    await expect.poll(() => panel.getByTestId('pool-remaining').textContent()).toContain('3 identities');
    await panel.getByTestId('use-pool').check();
    await page.screenshot({ path: join(SHOTS, 'ui-settings-pool.png') });

    await page.keyboard.press('Alt+1');
    await expect.poll(() => page.getByTestId('pool-status').textContent()).toContain('3 left');
    const esp32Cards = page.locator('[data-testid="tile"][data-port^="virtual:esp32-"]');
    const before = await esp32Cards.count();
    await page.getByTestId('add-esp32').click();
    await expect.poll(() => esp32Cards.count()).toBe(before + 1);
    await esp32Cards.last().getByTestId('tile-select').click();
    await page.getByTestId('provision').click();
    const id = await resultUnitId();
    expect(unitRow(id).setup_id).toBe(manifest.identities[0]!.setupId);
    expect(unitRow(id).setup_code).toBe(manifest.identities[0]!.setupCode);
    expect(await qrOnScreen()).toBe(unitRow(id).payload);
    await expect.poll(() => page.getByTestId('pool-status').textContent()).toContain('2 left');

    // back to fresh identities: the status line goes away
    await page.keyboard.press('Alt+3');
    await page.getByTestId('pool-panel').getByTestId('use-pool').uncheck();
    await page.keyboard.press('Alt+1');
    await expect.poll(() => page.getByTestId('pool-status').count()).toBe(0);
  });

  it('no console errors, no CSP violations, no page errors', () => {
    expect(problems).toEqual([]);
  });
});
