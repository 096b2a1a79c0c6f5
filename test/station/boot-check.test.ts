// Acceptance (issue 17, boot check): units on virtual chips whose firmware reads its factory NVS
// from the flash it holds and prints setup_id; panicking firmware fails at the boot check with the
// panic line shown, is not labelled and keeps its identity; a retry after the engineer swapped in
// good firmware completes with the same identity. The firmware's words are checked independently of
// the station: the setup ID is read out of the log kept with each attempt by a regex here.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StationEvent } from '../../shared/station/events.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { Station, type ProvisionOutcome } from '../../src-main/station/station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { productWithFirmware, randomMac, setupDataOnFlash } from './helpers.ts';

const PORTS = ['virtual:a', 'virtual:b', 'virtual:c', 'virtual:d'];
const BOOT_CHECK = { require: ['app_main: Boot Fan 1.0'], setupId: true, timeoutSeconds: 20 };

async function bench(firmware: Parameters<typeof productWithFirmware>[2], dir = mkdtempSync(join(tmpdir(), 'hkfs-boot-'))) {
  const profile = await productWithFirmware(dir, 'esp32c3', firmware, { bootCheck: BOOT_CHECK });
  const db = openRegistry(join(dir, 'station.db'));
  const registry = new VirtualChipRegistry();
  const station = new Station({ db, profile, labelDir: join(dir, 'labels'), stationName: 'boot', operator: 'test', virtualRegistry: registry });
  const events: StationEvent[] = [];
  station.on((e) => events.push(e));
  /** Provisions `n` fresh boards, four ports at a time; returns each outcome with its chip. */
  const run = async (n: number) => {
    const out: { outcome: ProvisionOutcome; port: string; flash: Uint8Array }[] = [];
    for (let done = 0; done < n; done += PORTS.length) {
      const ports = PORTS.slice(0, Math.min(PORTS.length, n - done));
      const chips = ports.map((p) => {
        registry.remove(p);
        return registry.create(p, { chip: 'esp32c3', mac: randomMac(), pacing: false });
      });
      const outcomes = await Promise.all(ports.map((p) => station.provisionNext(p)));
      outcomes.forEach((outcome, i) => out.push({ outcome, port: ports[i]!, flash: chips[i]!.flash }));
    }
    return out;
  };
  return { dir, db, registry, station, events, run };
}

/** The setup ID the firmware printed, read from its log here (not by the station's matcher). */
const printedSetupId = (log: string | null) => /factory_nvs: hap_setup\/setup_id = ([0-9A-Z]{4})/.exec(log ?? '')?.[1];

describe('boot check: firmware that prints its own factory setup_id', () => {
  let b: Awaited<ReturnType<typeof bench>>;
  let results: Awaited<ReturnType<Awaited<ReturnType<typeof bench>>['run']>>;
  beforeAll(async () => {
    b = await bench({ kind: 'homekit', name: 'Boot Fan', version: '1.0' });
    results = await b.run(20);
  }, 240_000);

  it('20 units pass, and the setup ID each printed is the one in the database (and on its flash)', async () => {
    expect(results.map((r) => r.outcome.kind)).toEqual(Array(20).fill('done'));
    const attempts = (await b.db.attempts.list({ limit: 100 }));
    for (const { outcome, flash } of results) {
      if (outcome.kind !== 'done') continue;
      const unit = (await b.db.getUnit(outcome.result.unit.id))!;
      const attempt = attempts.find((a) => a.unitId === unit.id)!;
      expect(attempt).toMatchObject({ outcome: 'ok', kind: 'provision' });
      expect(printedSetupId(attempt.bootLog)).toBe(unit.setupId);
      expect(attempt.bootLog).toContain('app_main: Boot Fan 1.0');
      expect(setupDataOnFlash(flash).setupId).toBe(unit.setupId);
      expect(attempt.bootLog).not.toContain(unit.setupCode);
    }
    expect(new Set(results.map((r) => (r.outcome.kind === 'done' ? r.outcome.result.unit.setupId : ''))).size).toBe(20);
  });

  it('every run passed through the boot check between record and label', () => {
    const stages = b.events.filter((e): e is Extract<StationEvent, { type: 'stage' }> => e.type === 'stage' && e.port === 'virtual:a').map((e) => e.stage);
    const i = stages.indexOf('boot-check');
    expect(i).toBeGreaterThan(stages.indexOf('record'));
    expect(stages.indexOf('label', i)).toBeGreaterThan(i);
  });
});

describe('boot check: firmware that panics', () => {
  let b: Awaited<ReturnType<typeof bench>>;
  let results: Awaited<ReturnType<Awaited<ReturnType<typeof bench>>['run']>>;
  beforeAll(async () => {
    b = await bench({ kind: 'panic', name: 'Boot Fan', version: '1.0' });
    results = await b.run(20);
  }, 240_000);

  it('every unit fails at the boot check, with the panic line shown, and gets no label', async () => {
    for (const { outcome, port } of results) {
      expect(outcome).toMatchObject({ kind: 'failed', stage: 'boot-check', code: 'boot-crash' });
      if (outcome.kind !== 'failed') continue;
      expect(outcome.message).toMatch(/Guru Meditation Error: Core {2}0 panic'ed \(Load access fault\)/);
      expect(b.station.portState(port)).toMatchObject({ phase: 'failed', failure: { stage: 'boot-check', code: 'boot-crash' } });
      const unit = (await b.db.getUnit(outcome.unitId!))!;
      expect(unit.status).toBe('failed');
      expect(unit.failure).toContain('Guru Meditation Error');
      expect(unit.labelPrintCount).toBe(0);
    }
    expect(b.events.some((e) => e.type === 'done')).toBe(false);
    expect(existsSync(join(b.dir, 'labels')) ? readdirSync(join(b.dir, 'labels')) : []).toEqual([]);
  });

  it('the log is kept with each failed attempt: the panic line in it, no setup code', async () => {
    const failed = (await b.db.attempts.list({ outcome: 'failed', limit: 100 }));
    expect(failed).toHaveLength(20);
    for (const a of failed) {
      expect(a.stage).toBe('boot-check');
      expect(a.bootLog).toContain("Guru Meditation Error: Core  0 panic'ed");
      expect(a.bootLog).toContain('Rebooting...');
      expect(a.bootLog).not.toContain((await b.db.getUnit(a.unitId!))!.setupCode);
    }
  });

  it('a retry after the engineer swapped in good firmware completes with the same identity', async () => {
    // The board still on port a: the last one provisioned there.
    const { outcome, port } = results.filter((r) => r.port === 'virtual:a').at(-1)!;
    if (outcome.kind !== 'failed') throw new Error('expected a failure');
    const before = (await b.db.getUnit(outcome.unitId!))!;
    const good = await productWithFirmware(join(b.dir, 'fixed'), 'esp32c3', { kind: 'homekit', name: 'Boot Fan', version: '1.0' }, { bootCheck: BOOT_CHECK });
    b.station.setProfile(good);
    const retried = await b.station.retry(port);
    expect(retried.kind, JSON.stringify(retried)).toBe('done');
    if (retried.kind !== 'done') return;
    expect(retried.result.unit).toMatchObject({ id: before.id, setupId: before.setupId, mac: before.mac, status: 'label-pending' });
    expect((await b.db.getUnit(before.id))!.setupCode).toBe(before.setupCode);
    const last = (await b.db.attempts.list({ unitId: before.id, limit: 10 }))[0]!;
    expect(last).toMatchObject({ kind: 'retry', outcome: 'ok' });
    expect(printedSetupId(last.bootLog)).toBe(before.setupId);
    expect(setupDataOnFlash(b.registry.get(port)!.flash).setupId).toBe(before.setupId);
  });
});

describe('boot check: other firmware', () => {
  it('firmware that prints nothing fails when the time is up, saying so', async () => {
    const b = await bench({ kind: 'silent' });
    b.station.setProfile(await productWithFirmware(join(b.dir, 'short'), 'esp32c3', { kind: 'silent' }, { bootCheck: { ...BOOT_CHECK, timeoutSeconds: 0.5 } }));
    const [r] = await b.run(1);
    expect(r!.outcome).toMatchObject({ kind: 'failed', stage: 'boot-check', code: 'boot-silent' });
  });

  it('firmware without the required line fails naming the line it never printed', async () => {
    const b = await bench({ kind: 'homekit', name: 'Other Fan', version: '2.0' });
    b.station.setProfile(await productWithFirmware(join(b.dir, 'short'), 'esp32c3', { kind: 'homekit', name: 'Other Fan', version: '2.0' }, { bootCheck: { ...BOOT_CHECK, timeoutSeconds: 0.5 } }));
    const [r] = await b.run(1);
    expect(r!.outcome).toMatchObject({ kind: 'failed', stage: 'boot-check', code: 'boot-missing' });
    if (r!.outcome.kind === 'failed') expect(r!.outcome.message).toContain('did not print the line "app_main: Boot Fan 1.0"');
  });

  it('firmware reporting another setup ID fails as a mismatch', async () => {
    const b = await bench({ kind: 'lines', lines: ['I (230) app_main: Boot Fan 1.0', 'I (241) factory_nvs: hap_setup/setup_id = ZZZZ'] });
    const [r] = await b.run(1);
    expect(r!.outcome).toMatchObject({ kind: 'failed', stage: 'boot-check', code: 'boot-mismatch' });
    if (r!.outcome.kind === 'failed') expect(r!.outcome.message).toMatch(/reports setup ID ZZZZ, but this unit was given [0-9A-Z]{4}/);
  });
});
