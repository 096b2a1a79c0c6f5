import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutLabel, type LabelData, type LabelLayout } from '../../shared/label/layout.ts';
import { renderLabelSvg, renderQrSvg } from '../../shared/label/svg.ts';
import { decodeQr, readPng } from './raster.ts';

const FULL: LabelData = {
  setupPayload: 'X-HM://0071WK4SM7OSX',
  setupCode: '518-08-582',
  productName: 'Smart Plug Mini',
  serial: 'SN 000123',
  mac: 'AA:BB:CC:DD:EE:FF',
};
const fixture = (name: string) => readFileSync(new URL(`../fixtures/label/qr/${name}`, import.meta.url), 'utf8');
const dataUrl = (svg: string) => `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;

describe('renderLabelSvg (static)', () => {
  const layout = layoutLabel({ size: '40x30', showProductName: true, showSerial: true }, { ...FULL, productName: 'Plug <A&B> "x"' });
  const svg = renderLabelSvg(layout);

  it('is real size in mm with a mm viewBox', () => {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="40mm" height="30mm" viewBox="0 0 40 30">/);
  });

  it('has one crisp QR path, the code text, and escaped product text', () => {
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg).toContain('shape-rendering="crispEdges"');
    expect(svg).toContain('>518-08-582</text>');
    expect(svg).toContain('>Plug &#60;A&#38;B&#62; &#34;x&#34;</text>');
    expect(svg).toMatch(/font-family="Helvetica, Arial/);
  });

  it('has no scripts, styles, event handlers or external references', () => {
    expect(svg).not.toMatch(/<script|<style|<foreignObject|\son\w+=|url\(|xlink:href|href="(?!data:)/i);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it('renderQrSvg: viewBox = modules + 2 × 4 quiet zone; optional real size', () => {
    expect(renderQrSvg(FULL.setupPayload)).toMatch(/viewBox="0 0 29 29"/);
    expect(renderQrSvg(FULL.setupPayload, { errorCorrectionLevel: 'Q' })).toMatch(/viewBox="0 0 33 33"/);
    expect(renderQrSvg(FULL.setupPayload, { moduleMm: 0.5, quietZoneModules: 2 })).toMatch(/width="12.5mm" height="12.5mm" viewBox="0 0 25 25"/);
  });
});

// One Chromium for all browser checks (launch costs ~1 s).
describe('in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ deviceScaleFactor: 4 });
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  });
  afterAll(async () => {
    await browser?.close();
  });

  const layouts: [string, LabelLayout][] = [
    ['40x30', layoutLabel({ size: '40x30', showProductName: true, showSerial: true, showMac: true }, FULL)],
    ['25x25', layoutLabel({ size: '25x25', codeStyle: 'groups-of-four', showSerial: true }, FULL)],
  ];

  it('labels and QR SVGs shown as <img> under a strict CSP decode to the payload', async () => {
    const images: [string, string, string][] = [
      ...layouts.map(([name, l]) => [name, renderLabelSvg(l), FULL.setupPayload] as [string, string, string]),
      ['qr', renderQrSvg(FULL.setupPayload, { moduleMm: 0.6 }), FULL.setupPayload],
      // Decoder-pipeline sanity on the vectors made with npm qrcode.
      ['vector-qr.svg', fixture('qr.svg').replace('<svg ', '<svg width="120" height="120" '), fixture('expected.txt').trim()],
      ['vector-label.svg', fixture('label.svg'), fixture('expected.txt').trim()],
    ];
    const html =
      `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:">` +
      '<body>' +
      images.map(([name, svg]) => `<div><img id="img_${name.replace(/\W/g, '_')}" src="${dataUrl(svg)}"></div>`).join('') +
      '</body>';
    await page.setContent(html);
    // Browser-side code as strings: this file is type-checked without DOM types.
    await page.waitForFunction('[...document.images].every((i) => i.complete && i.naturalWidth > 0)');
    for (const [name, , expected] of images) {
      const png = await page.locator(`#img_${name.replace(/\W/g, '_')}`).screenshot();
      expect(decodeQr(readPng(png)), name).toBe(expected);
    }
    // The label image has its real size: 40 mm = 151.18 CSS px.
    const width = (await page.evaluate("document.getElementById('img_40x30').getBoundingClientRect().width")) as number;
    expect(width).toBeCloseTo((40 * 96) / 25.4, 1);
    expect(requests.filter((u) => !u.startsWith('data:') && u !== 'about:blank')).toEqual([]);
    expect(consoleErrors).toEqual([]); // e.g. no CSP violations
  });

  it('text drawn by the browser font matches the predicted Helvetica widths and stays inside the margins', async () => {
    for (const [name, layout] of layouts) {
      await page.setContent(`<!doctype html><body style="margin:0">${renderLabelSvg(layout)}</body>`);
      const measured = (await page.evaluate(`[...document.querySelectorAll('text')].map((t) => {
        const box = t.getBBox();
        return { text: t.textContent, length: t.getComputedTextLength(), x: box.x, right: box.x + box.width };
      })`)) as { text: string; length: number; x: number; right: number }[];
      expect(measured.map((m) => m.text)).toEqual(layout.texts.map((t) => t.text));
      measured.forEach((m, i) => {
        const predicted = layout.texts[i]!;
        // Liberation Sans / Arial share Helvetica's advance widths; browser kerning only narrows.
        expect(m.length, `${name} ${m.text}`).toBeLessThanOrEqual(predicted.widthMm + 1e-3);
        expect(m.length, `${name} ${m.text}`).toBeGreaterThan(predicted.widthMm * 0.97);
        // Bounding boxes may overhang the advance by a hair (hinting); allow 0.1 mm (< 1 dot at 203 dpi).
        expect(m.x).toBeGreaterThanOrEqual(1 - 0.1);
        expect(m.right).toBeLessThanOrEqual(layout.widthMm - 1 + 0.1);
      });
    }
  });
});
