// Re-plugged units keep their identity; injected faults leave a named state and a retry succeeds.
import { describe, expect, it, beforeAll } from 'vitest';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { codeOnLabel, demoStation, randomMac, setupDataOnFlash } from './helpers.ts';
import type { StationEvent } from '../../shared/station/events.ts';
import type { VirtualFault } from '../../src-main/virtual-chip/index.ts';

beforeAll(() => useOpenSslModPow());

describe('re-plugging a provisioned unit', () => {
  it('offers a re-flash, and after confirmation writes the same identity; one database row', async () => {
    const { station, registry, db } = await demoStation();
    const mac = randomMac();
    registry.create('virtual:a', { chip: 'esp32c3', mac, pacing: false });
    const first = await station.provisionNext('virtual:a');
    expect(first.kind).toBe('done');
    if (first.kind !== 'done') return;

    // unplug, wipe the flash (as if the firmware was erased), plug the same unit back in
    registry.remove('virtual:a');
    const again = registry.create('virtual:a', { chip: 'esp32c3', mac, pacing: false });
    const events: StationEvent[] = [];
    station.on((e) => events.push(e));
    const offer = await station.provisionNext('virtual:a');
    expect(offer).toMatchObject({ kind: 'needs-confirmation', unitId: first.result.unit.id, setupId: first.result.unit.setupId });
    expect(events.some((e) => e.type === 'needs-confirmation')).toBe(true);
    expect(setupDataOnFlash(again.flash).salt).toBeUndefined(); // nothing written without confirmation

    const reflash = await station.confirmReflash('virtual:a');
    expect(reflash.kind).toBe('done');
    if (reflash.kind !== 'done') return;
    expect(reflash.result.reflashed).toBe(true);
    expect(reflash.result.setupCode).toBe(first.result.setupCode);
    expect(reflash.result.unit.setupId).toBe(first.result.unit.setupId);
    const onDevice = setupDataOnFlash(again.flash);
    expect(pairSetup(onDevice.salt!, onDevice.verifier!, codeOnLabel(reflash.result.labelSvg)!)).toEqual({ ok: true });
    expect(await db.listUnits({ mac })).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(first.result.setupCode);
  });

  it('a confirmed re-flash that fails is retried without asking the question again', async () => {
    const { station, registry } = await demoStation();
    const mac = randomMac();
    registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    const first = await station.provisionNext('virtual:a');
    if (first.kind !== 'done') throw new Error('first run failed');
    registry.remove('virtual:a');
    const again = registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    expect(await station.provisionNext('virtual:a')).toMatchObject({ kind: 'needs-confirmation' });
    // Fails before anything is written: the unit record still says it is finished.
    again.injectFault({ kind: 'no-download-mode' });
    expect(await station.confirmReflash('virtual:a')).toMatchObject({ kind: 'failed', code: 'no-download-mode' });
    again.clearFaults();
    const retried = await station.retry('virtual:a');
    expect(retried.kind).toBe('done'); // not 'needs-confirmation': the operator already said yes
    if (retried.kind !== 'done') return;
    expect(retried.result.unit.id).toBe(first.result.unit.id);
    expect(retried.result.setupCode).toBe(first.result.setupCode);
    // A board that leaves takes the answer with it: the next time it is asked again.
    station.portChanged('virtual:a', 'detached');
    station.portChanged('virtual:a', 'attached');
    expect(await station.provisionNext('virtual:a')).toMatchObject({ kind: 'needs-confirmation' });
  });

  it('a second unit on the same port gets a different identity', async () => {
    const { station, registry } = await demoStation();
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    const a = await station.provisionNext('virtual:a');
    registry.remove('virtual:a');
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    const b = await station.provisionNext('virtual:a');
    expect(a.kind === 'done' && b.kind === 'done').toBe(true);
    if (a.kind !== 'done' || b.kind !== 'done') return;
    expect(b.result.setupCode).not.toBe(a.result.setupCode);
    expect(b.result.unit.setupId).not.toBe(a.result.unit.setupId);
  });
});

describe('faults during provisioning', () => {
  const cases: { name: string; fault: VirtualFault; code: string; stage: string }[] = [
    { name: 'unplugged mid-write', fault: { kind: 'unplug', afterBytes: 9000 }, code: 'unplugged', stage: 'flash' },
    { name: 'flash bit flipped', fault: { kind: 'corrupt-write' }, code: 'verify-mismatch', stage: 'verify' },
    { name: 'chip stops answering', fault: { kind: 'stall', afterBytes: 9000 }, code: 'timeout', stage: 'flash' },
    { name: 'never enters download mode', fault: { kind: 'no-download-mode' }, code: 'no-download-mode', stage: 'connect' },
  ];
  for (const c of cases) {
    it(`${c.name}: unit state '${c.code}', readable message, retry succeeds with the same identity`, async () => {
      const { station, registry, db } = await demoStation();
      const mac = randomMac();
      const chip = registry.create('virtual:f', { chip: 'esp32', mac, pacing: false });
      chip.injectFault(c.fault);
      const failed = await station.provisionNext('virtual:f');
      expect(failed).toMatchObject({ kind: 'failed', code: c.code, stage: c.stage });
      if (failed.kind !== 'failed') return;
      expect(failed.message.length).toBeGreaterThan(10);
      expect(failed.nextStep.length).toBeGreaterThan(10);
      expect(station.portState('virtual:f')).toMatchObject({ phase: 'failed', failure: { code: c.code, stage: c.stage } });
      const before = await db.findByMac('demo-smart-plug', mac);
      if (c.stage === 'connect') expect(before).toBeUndefined(); // no identity spent on a unit never identified
      else expect(before).toMatchObject({ status: 'failed', failure: failed.message }); // the operator-readable reason is recorded
      if (before) expect(failed.message).not.toContain(before.setupCode);

      // operator re-plugs / fixes and presses Retry
      if (!registry.get('virtual:f')) registry.add('virtual:f', chip);
      chip.clearFaults();
      if (c.fault.kind === 'unplug') { registry.remove('virtual:f'); registry.create('virtual:f', { chip: 'esp32', mac, pacing: false }); }
      const retried = await station.retry('virtual:f');
      expect(retried.kind).toBe('done');
      if (retried.kind !== 'done') return;
      if (before) {
        expect(retried.result.unit.id).toBe(before.id);
        expect(retried.result.unit.setupId).toBe(before.setupId);
        expect(retried.result.unit.attempts).toBe(2);
      }
      const onDevice = setupDataOnFlash(registry.get('virtual:f')!.flash);
      expect(pairSetup(onDevice.salt!, onDevice.verifier!, retried.result.setupCode)).toEqual({ ok: true });
      expect(await db.listUnits({ mac })).toHaveLength(1);
    }, 180_000);
  }
});
