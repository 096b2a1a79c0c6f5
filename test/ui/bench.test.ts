// The multi-port bench end to end, as an operator meets it: the built renderer in Chromium, the real
// AppCore + handlers behind it, and the REAL port-watcher path — a ListingBinding whose port list
// changes (boards at /dev/ttyUSB0…8 on distinct USB hub ports), with the flasher reaching 8+
// virtual chips at those device paths through an injected port opener. Independent checks: label
// PDFs from Chromium's print pipeline decoded with pdftoppm + jsQR and read with pdftotext; the DB
// read with its own SQLite connection; tile phases recorded in the page by a MutationObserver and
// checked against the port model's transition table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers } from '../../src-main/app/handlers.ts';
import type { LabelJob } from '../../src-main/app/label-page.ts';
import { createPortOpener } from '../../src-main/flash/index.ts';
import { createVirtualBinding, VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { canMove, type PortPhase } from '../../shared/station/port-state.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { decodeQr, rasterisePdf } from '../label/raster.ts';
import { openUi, screenMatchesModel, type UiSession } from './harness.ts';

const SHOTS = 'test-results';
const BOARDS = 8;
const dev = (i: number) => `/dev/ttyUSB${i}`;
const hubPort = (i: number) => `pci-0000:00:14.0-usb-0:1.${i + 1}:1.0-port0`;

let dataDir: string;
let core: AppCore;
let ui: UiSession;
const registry = new VirtualChipRegistry();
let macCounter = 0x10;
/** A print fails while the PDF path contains this (the unit's MAC digits). */
let failPrintFor: string | null = null;
const printed = new Map<string, string>(); // MAC digits → label PDF

/** Even ports: ESP32 behind a CP210x bridge; odd ports: S3 / C3 on their native USB-Serial/JTAG. */
const chipAt = (i: number) => (i % 2 === 0 ? 'esp32' : i % 4 === 1 ? 'esp32s3' : 'esp32c3');
const nativeUsb = (i: number) => i % 2 === 1;

function plug(i: number, mac?: string): string {
  const m = mac ?? `24:0a:c4:00:b0:${(macCounter++).toString(16).padStart(2, '0')}`;
  registry.create(dev(i), { chip: chipAt(i), mac: m, pacing: false });
  return m;
}

function db<T>(fn: (d: Database.Database) => T): T {
  const d = new Database(join(dataDir, 'production.db'), { readonly: true });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

const unitRow = (id: number) => db((d) => d.prepare('SELECT id, mac, setup_id, payload, status, slot FROM units WHERE id = ?').get(id)) as { id: number; mac: string; setup_id: string; payload: string; status: string; slot: number };
const tile = (slot: number) => ui.page.locator(`[data-testid="tile"][data-slot="${slot}"]`);
const phaseOnScreen = (slot: number) => tile(slot).getAttribute('data-phase');

function coreTile(slot: number) {
  return core.snapshot().tiles.find((t) => t.slot === slot)!;
}

async function shot(name: string): Promise<void> {
  const model = () => core.snapshot().tiles;
  await screenMatchesModel(ui.page, model);
  await ui.page.screenshot({ path: join(SHOTS, `bench-${name}.png`) });
  await screenMatchesModel(ui.page, model, 10_000); // still the model after the picture: the picture shows the truth
}

async function blur(): Promise<void> {
  await ui.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
}

beforeAll(async () => {
  useOpenSslModPow();
  dataDir = mkdtempSync(join(tmpdir(), 'hkfs-bench-'));
  const binding = createVirtualBinding(registry);
  const locations = () => new Map(Array.from({ length: 10 }, (_, i) => [dev(i), hubPort(i)] as [string, string]));
  const platform: Platform = {
    pickFile: async () => null,
    pickManifestPath: async () => null,
    pickPoolManifest: async () => null,
    listPrinters: async () => [],
    printLabel: async () => undefined,
    saveLabelPdf: async (job: LabelJob, path: string) => {
      if (failPrintFor && path.includes(failPrintFor)) throw new Error('Printer out of labels');
      await ui.printPdf(job, path);
      printed.set(/([0-9a-f]{12})\.pdf$/.exec(path)![1]!, path);
    },
  };
  core = await AppCore.open({
    dataDir, platform, stationName: 'bench-test', operator: 'tester',
    portBinding: { list: () => binding.list() }, portLocations: locations, openPort: createPortOpener({ binding: binding as never }),
    watchPorts: true, pollMs: 3_600_000, // polled by the test: "within one poll" means exactly one
  });
  ui = await openUi(createHandlers(core), (push) => core.on(push));
  // Every phase each tile shows, in order (recorded in the page, so no state is missed).
  await ui.page.evaluate(() => {
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(n: string): string | null }> }; MutationObserver: new (cb: () => void) => { observe(t: unknown, o: object): void }; __phases: Record<string, string[]> };
    g.__phases = {};
    const record = () => {
      for (const el of Array.from(g.document.querySelectorAll('[data-testid="tile"]'))) {
        const slot = el.getAttribute('data-slot')!;
        const seen = (g.__phases[slot] ??= []);
        const phase = el.getAttribute('data-phase')!;
        if (seen.at(-1) !== phase) seen.push(phase);
      }
    };
    new g.MutationObserver(record).observe(g.document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
  });
}, 240_000);

afterAll(async () => {
  await ui?.close();
  await core?.close();
});

describe('a bench of 8 boards on real port-watcher events', () => {
  const macs: string[] = [];

  it('shows no board, then every plugged board within one poll, each in its own numbered slot', async () => {
    await ui.page.getByTestId('no-ports').waitFor();
    // Scan-back on for this product (and the save must not reset anything later).
    const editor = await core.getProfile('demo-profile.json');
    await core.saveProfile('demo-profile.json', { ...editor.profile, scanBack: true });
    for (let i = 0; i < BOARDS; i++) macs.push(plug(i));
    await core.bench.poll();
    await expect.poll(() => ui.page.getByTestId('tile').count()).toBe(BOARDS);
    for (let i = 0; i < BOARDS; i++) {
      expect(await phaseOnScreen(i + 1)).toBe('ready');
      // Native USB reports the MAC as its serial number: known at plug. Behind a UART bridge it is
      // known once the bootloader answers.
      expect(await tile(i + 1).getByTestId('tile-mac').textContent()).toBe(nativeUsb(i) ? macs[i]!.toUpperCase() : 'MAC not read yet');
      expect(await tile(i + 1).getAttribute('data-port')).toBe(dev(i));
    }
    await shot('8-ready');
  });

  it('provisions all 8 in parallel (A); every tile walks the flow; a printer failure stays amber', async () => {
    failPrintFor = macs[4]!.replace(/:/g, ''); // slot 5's printer jams
    await blur();
    await ui.page.keyboard.press('a');
    await expect.poll(async () => (await Promise.all(Array.from({ length: BOARDS }, (_, i) => phaseOnScreen(i + 1)))).every((p) => p === 'awaiting-scan' || p === 'print-failed'), { timeout: 60_000 }).toBe(true);
    await shot('8-provisioned');
    expect(await phaseOnScreen(5)).toBe('print-failed');
    expect(await tile(5).evaluate((el) => el.className)).toMatch(/\bwarn\b/);
    expect(await tile(5).getByTestId('tile-status').textContent()).toBe('No label');
    // Every phase shown was a legal move of the port model, from ready to the end.
    const phases = await ui.page.evaluate(() => (globalThis as unknown as { __phases: Record<string, string[]> }).__phases);
    for (let slot = 1; slot <= BOARDS; slot++) {
      const seen = phases[String(slot)]! as PortPhase[];
      const from = seen.indexOf('ready');
      expect(from, `slot ${slot}: ${seen.join(' → ')}`).toBeGreaterThanOrEqual(0);
      for (let k = from; k + 1 < seen.length; k++) {
        // The screen may skip quick intermediate phases, never go against the flow: the shown
        // sequence must be a path through the transition table when skipped phases are allowed.
        expect(reachable(seen[k]!, seen[k + 1]!), `slot ${slot}: ${seen.join(' → ')}`).toBe(true);
      }
      expect(seen).toContain('flash');
    }
    // The DB agrees, and the printer failure left its unit label-pending.
    const rows = db((d) => d.prepare('SELECT id, mac, status, slot FROM units ORDER BY slot').all()) as { id: number; mac: string; status: string; slot: number }[];
    expect(rows.map((r) => r.slot)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.map((r) => r.status)).toEqual(['label-printed', 'label-printed', 'label-printed', 'label-printed', 'label-pending', 'label-printed', 'label-printed', 'label-printed']);
  });

  it("each printed label's QR and slot number match its tile and the DB", async () => {
    for (let slot = 1; slot <= BOARDS; slot++) {
      if (slot === 5) continue;
      const unitId = Number(await tile(slot).getByTestId('tile-unit').textContent());
      const row = unitRow(unitId);
      expect(row.slot).toBe(slot);
      expect(row.mac).toBe(macs[slot - 1]);
      expect(await tile(slot).getByTestId('tile-mac').textContent()).toBe(row.mac.toUpperCase());
      expect(await tile(slot).getByTestId('tile-setup-id').textContent()).toBe(row.setup_id);
      const pdf = printed.get(row.mac.replace(/:/g, ''))!;
      expect(decodeQr(rasterisePdf(readFileSync(pdf), 300)[0]!)).toBe(row.payload);
      const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
      expect(text).toContain(`Unit ${unitId} · Slot ${slot}`);
    }
  });

  it('the jammed printer: fixed, then P on slot 5 prints it once and it waits for its scan', async () => {
    failPrintFor = null;
    await blur();
    await ui.page.keyboard.press('5');
    await expect.poll(() => ui.page.getByTestId('detail').getAttribute('data-slot')).toBe('5');
    await ui.page.keyboard.press('p');
    await expect.poll(() => phaseOnScreen(5)).toBe('awaiting-scan');
    expect(db((d) => d.prepare("SELECT COUNT(*) AS n FROM attempts WHERE kind = 'print' AND slot = 5").get()) as { n: number }).toEqual({ n: 2 });
  });

  it('a scanned label of another unit is refused on that tile; its own label finishes it', async () => {
    const unitOf = async (slot: number) => unitRow(Number(await tile(slot).getByTestId('tile-unit').textContent()));
    const [one, two] = [await unitOf(1), await unitOf(2)];
    await blur();
    await ui.page.keyboard.press('1');
    await ui.page.keyboard.type(two.payload); // a USB scanner types the QR content…
    await ui.page.keyboard.press('Enter'); // …and Enter
    await expect.poll(() => phaseOnScreen(1)).toBe('scan-mismatch');
    expect(await tile(1).evaluate((el) => el.className)).toMatch(/\bbad\b/);
    expect(await tile(1).getByTestId('tile-message').textContent()).toBe(`Label of unit ${two.id} (slot 2) — this board is unit ${one.id}.`);
    expect(unitRow(one.id).status).toBe('label-printed');
    await shot('8-wrong-label');
    await ui.page.keyboard.type(one.payload.toLowerCase()); // caps-lock scanners too
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => phaseOnScreen(1)).toBe('done');
    expect(unitRow(one.id).status).toBe('done');
    for (let slot = 2; slot <= BOARDS; slot++) {
      await ui.page.keyboard.press(String(slot));
      await ui.page.keyboard.type((await unitOf(slot)).payload);
      await ui.page.keyboard.press('Enter');
      await expect.poll(() => phaseOnScreen(slot)).toBe('done');
    }
    await shot('8-done');
  });

  it('counters survive a profile save; tiles keep their state', async () => {
    const before = core.snapshot().counters;
    expect(before).toMatchObject({ units: 8, failures: 0 });
    const editor = await core.getProfile('demo-profile.json');
    await core.saveProfile('demo-profile.json', { ...editor.profile, productName: 'Demo Smart Plug v2' });
    await expect.poll(() => ui.page.getByTestId('product-name').textContent()).toContain('Demo Smart Plug v2');
    expect(await ui.page.getByTestId('count-units').textContent()).toBe('8');
    for (let slot = 1; slot <= BOARDS; slot++) expect(await phaseOnScreen(slot)).toBe('done');
  });

  it('unplug, swap and re-plug show within one poll; the selection never moves by itself', async () => {
    registry.remove(dev(7)); // slot 8 unplugged
    registry.remove(dev(2)); // slot 3: another board on the same port
    plug(2);
    await core.bench.poll();
    await expect.poll(() => phaseOnScreen(8)).toBe('empty');
    await expect.poll(() => phaseOnScreen(3)).toBe('ready');
    expect(await tile(3).getByTestId('tile-mac').textContent()).toBe('MAC not read yet'); // a UART board: not the old MAC
    expect(await tile(3).getByTestId('tile-unit').count()).toBe(0); // not the previous unit's result
    expect(await tile(3).getByTestId('tile-message').textContent()).toContain('New board');

    await ui.page.keyboard.press('4'); // the operator looks at slot 4 …
    const chip4 = registry.get(dev(3))!;
    registry.remove(dev(3)); // … and re-plugs that board
    await core.bench.poll();
    await expect.poll(() => phaseOnScreen(4)).toBe('empty');
    registry.add(dev(3), chip4);
    await core.bench.poll();
    await expect.poll(() => phaseOnScreen(4)).toBe('ready');
    expect(await ui.page.getByTestId('detail').getAttribute('data-slot')).toBe('4');
    await shot('8-swapped');
    // Enter acts on slot 4: the same board asks before re-flashing; the question takes the focus.
    await blur();
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => phaseOnScreen(4)).toBe('needs-confirmation');
    await expect.poll(() => ui.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute('data-testid'))).toBe('reflash-yes');
    await ui.page.keyboard.press('n');
    await expect.poll(() => phaseOnScreen(4)).toBe('ready');
  });

  it('auto-provision starts on plug, and ends in the same truthful state as a manual run', async () => {
    await ui.page.getByTestId('auto-provision').check();
    macs.push(plug(8)); // a ninth port on the hub
    await core.bench.poll();
    await expect.poll(() => ui.page.getByTestId('tile').count()).toBe(9);
    await expect.poll(() => phaseOnScreen(9), { timeout: 30_000 }).toBe('awaiting-scan');
    const id = Number(await tile(9).getByTestId('tile-unit').textContent());
    expect(unitRow(id)).toMatchObject({ status: 'label-printed', slot: 9, mac: macs[8] });
    await ui.page.getByTestId('auto-provision').uncheck();
  });

  it('history: every attempt is recorded; failed ones filter; MAC search takes any form', async () => {
    await ui.page.keyboard.press('Alt+2');
    await ui.page.getByTestId('history-table').waitFor();
    await ui.page.getByTestId('filter-query').fill(macs[0]!.replace(/:/g, '').toUpperCase());
    await ui.page.getByTestId('search').click();
    await expect.poll(() => ui.page.getByTestId('history-row').count()).toBe(1);
    await ui.page.getByTestId('view-failed').click();
    await ui.page.getByTestId('filter-query').fill('');
    await ui.page.getByTestId('search').click();
    // The wrong-label scan on slot 1 and the jammed print on slot 5.
    await expect.poll(() => ui.page.getByTestId('attempt-row').count()).toBe(2);
    const failed = await ui.page.getByTestId('attempts-table').textContent();
    expect(failed).toContain('Label scan');
    expect(failed).toContain('out of labels');
    await ui.page.screenshot({ path: join(SHOTS, 'bench-history-failed.png') });
    // A label scanned anywhere on the history screen finds its unit.
    const three = unitRow((db((d) => d.prepare('SELECT id FROM units WHERE slot = 3 ORDER BY id LIMIT 1').get()) as { id: number }).id);
    await blur();
    await ui.page.keyboard.type(three.payload);
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => ui.page.getByTestId('history-row').count()).toBe(1);
    expect(await ui.page.getByTestId('history-row').textContent()).toContain(three.setup_id);
    await ui.page.keyboard.press('Alt+1');
  });

  it('no console errors, no CSP violations, no page errors', () => {
    expect(ui.problems).toEqual([]);
  });
});

/** Whether `to` can follow `from` on screen: one move, or several moves the screen may have merged. */
function reachable(from: PortPhase, to: PortPhase, depth = 12): boolean {
  if (from === to || canMove(from, to)) return true;
  if (depth === 0) return false;
  const order: PortPhase[] = ['ready', 'detect', 'connect', 'identity', 'image', 'flash', 'verify', 'record', 'boot-check', 'label', 'label-pending', 'printing', 'awaiting-scan', 'print-failed'];
  const i = order.indexOf(from);
  return i >= 0 && order.slice(i + 1).some((mid) => canMove(from, mid) && reachable(mid, to, depth - 1));
}
