// Pure parts of printing: page size in microns, the label page (HTML + CSS), printer check.
import { describe, expect, it } from 'vitest';
import { checkPrinterName, labelPageCss, labelPageHtml, LabelPageStore, pageSizeMicrons, silentPrintOptions } from '../../src-main/app/label-page.ts';

const printers = [
  { name: 'Brother_QL_820NWB', displayName: 'Brother QL-820NWB', isDefault: true },
  { name: 'Zebra_ZD421', displayName: 'Zebra ZD421', isDefault: false },
];

describe('label printing helpers', () => {
  it('page sizes are microns (40 × 30 mm = 40000 × 30000 µm)', () => {
    expect(pageSizeMicrons({ widthMm: 40, heightMm: 30 })).toEqual({ width: 40000, height: 30000 });
    expect(pageSizeMicrons({ widthMm: 25, heightMm: 25 })).toEqual({ width: 25000, height: 25000 });
    expect(pageSizeMicrons({ widthMm: 50.8, heightMm: 25.4 })).toEqual({ width: 50800, height: 25400 });
    // Electron refuses ≤ 352 µm.
    expect(() => pageSizeMicrons({ widthMm: 0.35, heightMm: 30 })).toThrow(RangeError);
    expect(() => pageSizeMicrons({ widthMm: Number.NaN, heightMm: 30 })).toThrow(RangeError);
  });

  it('silent print options name the device, the size and no margins', () => {
    expect(silentPrintOptions('Zebra_ZD421', { widthMm: 40, heightMm: 30 })).toMatchObject({
      silent: true, deviceName: 'Zebra_ZD421', pageSize: { width: 40000, height: 30000 }, margins: { marginType: 'none' },
    });
  });

  it('the page CSS sets @page to the label size with zero margin', () => {
    const css = labelPageCss({ widthMm: 40, heightMm: 30 });
    expect(css).toContain('@page { size: 40mm 30mm; margin: 0; }');
    expect(css).toContain('img { display: block; width: 40mm; height: 30mm; }');
  });

  it('the page HTML has no inline style or script and carries the SVG as a data: image', () => {
    const html = labelPageHtml('<svg xmlns="http://www.w3.org/2000/svg" width="40mm" height="30mm"><text>"&<></text></svg>', 'x.css');
    expect(html).not.toMatch(/<script|<style|style=/i);
    expect(html).toContain('<link rel="stylesheet" href="x.css">');
    const src = /src="([^"]*)"/.exec(html)![1]!.replace(/&#(\d+);/g, (_m, c) => String.fromCharCode(Number(c)));
    expect(src.startsWith('data:image/svg+xml,')).toBe(true);
    expect(decodeURIComponent(src.slice('data:image/svg+xml,'.length))).toContain('<text>"&<></text>');
  });

  it('printer names must match the OS list exactly (by OS name, not display name)', () => {
    expect(checkPrinterName('Zebra_ZD421', printers)).toBe('Zebra_ZD421');
    expect(() => checkPrinterName('Zebra ZD421', printers)).toThrow(/not installed/);
    expect(() => checkPrinterName('Brother_QL_820NWB', [])).toThrow(/installed: none/);
  });

  it('serves a label page by unguessable id, only while the job lives', () => {
    const store = new LabelPageStore();
    const { id, htmlPath } = store.add({ svg: '<svg/>', size: { widthMm: 25, heightMm: 25 } });
    expect(htmlPath).toBe(`/__label/${id}.html`);
    expect(store.respond(htmlPath)!.contentType).toMatch(/^text\/html/);
    expect(store.respond(`/__label/${id}.css`)!.body).toContain('size: 25mm 25mm');
    expect(store.respond('/__label/../index.html')).toBeNull();
    expect(store.respond(`/__label/${id}.js`)).toBeNull();
    store.remove(id);
    expect(store.respond(htmlPath)).toBeNull();
  });
});
