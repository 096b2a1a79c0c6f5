// Acceptance: 50 units provisioned on virtual chips (five ports at a time) and their labels delivered
// by the app's label delivery to a fake ZPL printer on 127.0.0.1. Every label the printer received
// decodes to its unit's payload — the native QR field's data (25 units), or the graphic field
// rendered to pixels from its bytes and decoded by jsQR (25 units, pixel fidelity) — carries the
// unit's setup code and MAC, and was printed exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverLabel } from '../../src-main/app/deliver-label.ts';
import type { Platform } from '../../src-main/app/app-core.ts';
import { validateProfile } from '../../shared/station/profile.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { ProvisionResult } from '../../shared/station/events.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { demoStation, randomMac } from '../station/helpers.ts';
import { decodeQr } from '../label/raster.ts';
import { FakeZplPrinter } from '../label/fake-zpl-printer.ts';
import { graphicOnLabel, readZpl } from '../label/zpl-reader.ts';

const noSystemPrinting: Platform = {
  pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null,
  listPrinters: async () => { throw new Error('not for ZPL'); },
  printLabel: async () => { throw new Error('not for ZPL'); },
  saveLabelPdf: async () => { throw new Error('not for ZPL'); },
};

describe('50 units labelled on a ZPL printer', () => {
  const results: ProvisionResult[] = [];
  let ctx: Awaited<ReturnType<typeof demoStation>>;
  let printer: FakeZplPrinter;

  beforeAll(async () => {
    useOpenSslModPow();
    printer = await FakeZplPrinter.start();
    ctx = await demoStation();
    const ports = ['virtual:esp32', 'virtual:esp32s3', 'virtual:esp32c3', 'virtual:esp32-b', 'virtual:esp32c3-b'];
    for (let round = 0; round < 10; round++) {
      // rounds 0–4: the printer's own QR field; 5–9: the preview's bitmap (pixel fidelity)
      const qr = round < 5 ? 'native' : 'bitmap';
      printer.printingPolls = round === 0 ? 1 : 0; // first round: each label is still printing at the first status after it
      const p = ctx.profile.profile;
      ctx.station.setProfile({ ...ctx.profile, profile: validateProfile({ ...p, label: { ...p.label, showUnit: true }, printer: { mode: 'zpl', host: '127.0.0.1', port: printer.port, dpi: round % 2 ? 300 : 203, qr } }) });
      for (const port of ports) {
        ctx.registry.remove(port);
        ctx.registry.create(port, { chip: port.includes('s3') ? 'esp32s3' : port.includes('c3') ? 'esp32c3' : 'esp32', mac: randomMac(), pacing: false });
      }
      const outcomes = await Promise.all(ports.map((port) => ctx.station.provisionNext(port)));
      const done = outcomes.map((o, i) => {
        if (o.kind !== 'done') throw new Error(`${ports[i]}: ${JSON.stringify(o)}`);
        return o.result;
      });
      // Five labels at once to one printer, as five finished slots would send them.
      const labels = await Promise.all(done.map((r) => deliverLabel(ctx.station, noSystemPrinting, ctx.dir, r.unit.id, r.labelSvg)));
      labels.forEach((l) => expect(l.status).toBe('printed'));
      results.push(...done);
    }
    await printer.settled();
  }, 300_000);

  afterAll(() => printer.close());

  it('the printer received 50 labels, one per unit, each decoding to its unit\'s payload with its code and MAC', async () => {
    expect(results).toHaveLength(50);
    expect(printer.printed).toHaveLength(50);
    const byPayload = new Map<string, number>();
    let native = 0;
    let bitmap = 0;
    for (const zpl of printer.printed) {
      const format = readZpl(zpl);
      const qrField = format.fields.find((f) => f.qr);
      let payload: string | null;
      if (qrField) {
        native++;
        expect(qrField.data!.startsWith('MM,A')).toBe(true); // ECC M, manual alphanumeric input
        payload = qrField.data!.slice(4);
      } else {
        bitmap++;
        payload = decodeQr(graphicOnLabel(format.fields.find((f) => f.graphic)!, format.width, format.length));
      }
      expect(payload).toMatch(/^X-HM:\/\//);
      byPayload.set(payload!, (byPayload.get(payload!) ?? 0) + 1);
      const unit = (await ctx.db.findByPayload(payload!))!;
      expect(unit).toBeDefined();
      const texts = format.fields.map((f) => f.text);
      expect(texts).toContain(formatSetupCode(unit.setupCode));
      expect(texts).toContain(unit.mac.toUpperCase());
      expect(texts).toContain(`Unit ${unit.id}`);
    }
    expect([native, bitmap]).toEqual([25, 25]);
    expect([...byPayload.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(results.map((r) => r.payload))).toEqual(new Set(byPayload.keys()));
  });

  it('every unit is done, printed once, with its print recorded', async () => {
    for (const r of results) {
      expect(await ctx.db.getUnit(r.unit.id)).toMatchObject({ status: 'done', labelPrintCount: 1 });
      expect((await ctx.db.attempts.list({ unitId: r.unit.id, kind: 'print' })).map((a) => a.outcome)).toEqual(['ok']);
    }
  });
});
