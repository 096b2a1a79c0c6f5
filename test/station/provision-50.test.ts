// Acceptance: 50 units through the real pipeline on virtual chips, several ports at once.
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { rasterisePdf, decodeQr } from '../label/raster.ts';
import { codeOnLabel, demoStation, randomMac, setupDataOnFlash } from './helpers.ts';
import type { ProvisionResult } from '../../shared/station/events.ts';

describe('50 units provisioned on virtual chips', () => {
  const results: { result: ProvisionResult; flash: Uint8Array }[] = [];
  let ctx: Awaited<ReturnType<typeof demoStation>>;

  beforeAll(async () => {
    useOpenSslModPow();
    ctx = await demoStation();
    const ports = ['virtual:esp32', 'virtual:esp32s3', 'virtual:esp32c3', 'virtual:esp32-b', 'virtual:esp32c3-b'];
    for (let round = 0; round < 10; round++) {
      const chips = ports.map((port) => {
        ctx.registry.remove(port);
        const kind = port.includes('s3') ? 'esp32s3' : port.includes('c3') ? 'esp32c3' : 'esp32';
        return ctx.registry.create(port, { chip: kind, mac: randomMac(), pacing: false });
      });
      const outcomes = await Promise.all(ports.map((p) => ctx.station.provisionNext(p)));
      outcomes.forEach((o, i) => {
        if (o.kind !== 'done') throw new Error(`${ports[i]}: ${JSON.stringify(o)}`);
        results.push({ result: o.result, flash: chips[i]!.flash.slice() });
      });
    }
  }, 240_000);

  it('gives every unit its own code and setup ID', async () => {
    expect(results).toHaveLength(50);
    expect(new Set(results.map((r) => r.result.setupCode)).size).toBe(50);
    expect(new Set(results.map((r) => r.result.unit.setupId)).size).toBe(50);
    expect(new Set(results.map((r) => r.result.unit.mac)).size).toBe(50);
    expect(await ctx.db.listUnits({ limit: 1000 })).toHaveLength(50);
  });

  it('every flash pairs (independent SRP client) with the code printed on its label', async () => {
    for (const { result, flash } of results) {
      const onDevice = setupDataOnFlash(flash);
      expect(onDevice.problems).toEqual([]);
      expect(onDevice.setupId).toBe(result.unit.setupId);
      const code = codeOnLabel(result.labelSvg)!;
      expect(code).toMatch(/^\d{3}-\d{2}-\d{3}$/);
      expect(pairSetup(onDevice.salt!, onDevice.verifier!, code)).toEqual({ ok: true });
    }
    // and a neighbour's code does not open it
    const a = setupDataOnFlash(results[0]!.flash);
    const neighbourCode = codeOnLabel(results[1]!.result.labelSvg);
    expect(neighbourCode).toMatch(/^\d{3}-\d{2}-\d{3}$/);
    expect(pairSetup(a.salt!, a.verifier!, neighbourCode!).ok).toBe(false);
  });

  it('every label QR decodes (pdftoppm + jsQR) to the payload stored in the database', async () => {
    for (const { result } of results) {
      const [page] = rasterisePdf(new Uint8Array(readFileSync(result.labelPdfPath!)), 200);
      const stored = (await ctx.db.getUnit(result.unit.id))!;
      expect(decodeQr(page!)).toBe(stored.payload);
    }
  });

  it('records every unit as label-pending with its image hash, and no setup code in the audit trail', async () => {
    for (const { result } of results) {
      const u = (await ctx.db.getUnit(result.unit.id))!;
      expect(u.status).toBe('label-pending');
      expect(u.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const audit = JSON.stringify(await ctx.db.auditRows());
    for (const { result } of results) {
      expect(audit).not.toContain(result.setupCode);
      expect(audit).not.toContain(result.setupCode.replace(/-/g, ''));
    }
  });
});
