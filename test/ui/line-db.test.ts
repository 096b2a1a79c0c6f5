// The production line in the operator UI (built renderer in Chromium, real handlers and station
// services, a throw-away PostgreSQL cluster): the engineer points the station at the line's server
// in Settings → Production database (never shown back with its password); History filters by
// station and its Stations view counts units and failures per station; a server that stops is one
// banner, gone once it answers again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import { migrateRegistry, openRegistry } from '../../src-main/registry/index.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { PgCluster, STATION_PASSWORD } from '../helpers/pg-cluster.ts';
import { openUi, type UiSession } from './harness.ts';

let cluster: PgCluster;
let core: AppCore;
let ui: UiSession;
let url: string;

beforeAll(async () => {
  useOpenSslModPow();
  cluster = await PgCluster.start();
  url = await cluster.createDatabase('line');
  await migrateRegistry(url, { station: 'engineer' });
  const dataDir = mkdtempSync(join(tmpdir(), 'hkfs-ui-line-'));
  const platform: Platform = {
    pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null, listPrinters: async () => [],
    printLabel: async () => undefined, saveLabelPdf: async (_job, path) => writeFileSync(path, '%PDF-stand-in'),
  };
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform, stationName: 'ui-line', operator: 'tester', databaseRetryMs: 1_000 });
  ui = await openUi(createHandlers(core), (push) => core.on(push));
}, 240_000);

afterAll(async () => {
  await ui?.close();
  await core?.close();
  await cluster?.destroy();
});

async function provisionOne(): Promise<string> {
  const port = core.addDemoChip('esp32');
  return (await core.provisionNext(port)).kind;
}

describe('the production line in the UI', () => {
  it('Settings → Production database: the line server is checked, then used; its password never shows', async () => {
    const { page } = ui;
    await page.keyboard.press('Alt+3');
    await expect.poll(() => page.getByTestId('database-location').textContent()).toContain('production.db');
    await page.getByTestId('database-input').fill(url);
    await page.getByTestId('database-apply').click();
    const shown = `postgres://127.0.0.1:${cluster.port}/line`;
    await expect.poll(() => page.getByTestId('database-message').textContent()).toBe(`Units are now recorded in ${shown}.`);
    await expect.poll(() => page.getByTestId('database-location').textContent()).toBe(shown);
    expect(await page.getByTestId('database-input').inputValue()).toBe('');
    expect(await page.content()).not.toContain(STATION_PASSWORD);
    await page.getByTestId('database-panel').screenshot({ path: 'test-results/line-settings-database.png' });
  });

  it('History: one station or the whole line, and per-station counts of units and failures', async () => {
    expect(await provisionOne()).toBe('done');
    const other = openRegistry(url, { station: 'bench-9' });
    await other.attempts.record({ station: 'bench-9', product: 'demo-smart-plug', kind: 'provision', outcome: 'failed', stage: 'connect', code: 'no-download-mode', message: 'No device in download mode' });
    await other.close();
    const { page } = ui;
    await page.keyboard.press('Alt+2');
    await expect.poll(() => page.getByTestId('filter-station').locator('option').allTextContents()).toEqual(['Whole line', 'bench-9', 'ui-line (this station)']);
    await expect.poll(() => page.getByTestId('history-row').count()).toBe(1);
    await page.getByTestId('filter-station').selectOption('bench-9');
    await expect.poll(() => page.getByTestId('history-row').count()).toBe(0);
    await page.getByTestId('filter-station').selectOption('');
    await page.getByTestId('view-line').click();
    await expect.poll(() => page.getByTestId('line-row').allTextContents()).toEqual(['bench-90100.04', 'ui-line100.040']);
    await page.screenshot({ path: 'test-results/line-history-stations.png' });
  });

  it('a server that stops is one banner; it goes once the server answers again', async () => {
    const { page } = ui;
    await cluster.stopServer('fast');
    expect(await provisionOne()).toBe('failed');
    await expect.poll(() => page.getByTestId('database-offline').textContent()).toMatch(/postgres:\/\/127\.0\.0\.1:\d+\/line/);
    expect(await page.getByTestId('database-offline').count()).toBe(1);
    await cluster.startServer();
    expect(await provisionOne()).toBe('done');
    await expect.poll(() => page.getByTestId('database-offline').count()).toBe(0);
    expect(ui.problems).toEqual([]);
  }, 180_000);
});
