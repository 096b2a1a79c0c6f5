// The per-port state machine (transition table and the moves a real run makes) and the Station
// API around it: busy ports, retry by unit, cancel, crash recovery, event subscription, label files.
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canMove, PORT_TRANSITIONS, type PortPhase } from '../../shared/station/port-state.ts';
import type { StationEvent } from '../../shared/station/events.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { generateSetupInfo } from '../../shared/homekit/srp.ts';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { Station } from '../../src-main/station/station.ts';
import { codeOnLabel, demoStation, randomMac, setupDataOnFlash } from './helpers.ts';

beforeAll(() => useOpenSslModPow());

const HAPPY_PATH: PortPhase[] = ['detect', 'connect', 'identity', 'image', 'flash', 'verify', 'record', 'boot-check', 'label', 'label-pending'];

describe('port model: transition table', () => {
  it('allows the happy path in order and nothing that skips a stage', () => {
    expect(canMove('ready', 'detect')).toBe(true);
    for (let i = 0; i + 1 < HAPPY_PATH.length; i++) expect(canMove(HAPPY_PATH[i]!, HAPPY_PATH[i + 1]!)).toBe(true);
    expect(canMove('label', 'done')).toBe(true); // the CLI: the label file is the deliverable
    // skipping verification, or labelling straight after a write, is impossible
    expect(canMove('flash', 'record')).toBe(false);
    expect(canMove('flash', 'label')).toBe(false);
    expect(canMove('identity', 'flash')).toBe(false);
    expect(canMove('detect', 'done')).toBe(false);
    expect(canMove('ready', 'flash')).toBe(false);
    expect(canMove('empty', 'detect')).toBe(false); // no board, no run
    // no going backwards inside a run
    expect(canMove('verify', 'flash')).toBe(false);
  });

  it('any work stage can fail, a failure only restarts; only identity asks for confirmation; a board may leave anywhere', () => {
    for (const s of HAPPY_PATH.slice(0, -1)) expect(canMove(s, 'failed')).toBe(true);
    expect(PORT_TRANSITIONS.failed.filter((p) => p !== 'empty')).toEqual(['detect']);
    const toConfirm = Object.entries(PORT_TRANSITIONS).filter(([, to]) => to.includes('needs-confirmation')).map(([from]) => from);
    expect(toConfirm).toEqual(['identity']);
    expect(canMove('needs-confirmation', 'detect')).toBe(true);
    expect(canMove('needs-confirmation', 'flash')).toBe(false);
    for (const phase of Object.keys(PORT_TRANSITIONS) as PortPhase[]) if (phase !== 'empty') expect(canMove(phase, 'empty')).toBe(true);
    expect(PORT_TRANSITIONS.empty).toEqual(['ready']);
  });

  it('a label is done only after a print that went out (and its scan, when asked)', () => {
    expect(canMove('label-pending', 'done')).toBe(true); // CLI pending → printed by markLabel…
    expect(canMove('printing', 'print-failed')).toBe(true);
    expect(canMove('print-failed', 'done')).toBe(false);
    expect(canMove('awaiting-scan', 'done')).toBe(true);
    expect(canMove('scan-mismatch', 'done')).toBe(true);
    expect(canMove('print-failed', 'printing')).toBe(true);
  });
});

describe('Station', () => {
  it('a run walks the happy path; events carry neither code nor payload; label SVG+PDF written 0600', async () => {
    const { station, registry, db, dir } = await demoStation();
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    const events: StationEvent[] = [];
    const states: PortPhase[] = [];
    station.on((e) => events.push(e));
    const off = station.on('port-state', (e) => states.at(-1) !== e.state.phase && states.push(e.state.phase));
    const outcome = await station.provisionNext('virtual:a');
    expect(outcome.kind).toBe('done');
    if (outcome.kind !== 'done') return;
    expect(states).toEqual(HAPPY_PATH);
    expect(station.portState('virtual:a')).toMatchObject({ phase: 'label-pending', percent: 100, unit: { id: outcome.result.unit.id, setupId: outcome.result.unit.setupId } });
    expect(station.portState('virtual:a').board).toEqual({ chip: 'esp32', mac: outcome.result.unit.mac });

    const stored = (await db.getUnit(outcome.result.unit.id))!;
    expect(outcome.result.payload).toBe(stored.payload);
    const json = JSON.stringify(events);
    expect(json).not.toContain(stored.setupCode);
    expect(json).not.toContain(outcome.result.setupCode);
    expect(json).not.toContain(stored.payload);
    expect(json).not.toContain('X-HM://');
    expect(JSON.stringify(await station.listUnits())).not.toContain(stored.setupCode);
    expect(JSON.stringify(await station.getUnit(stored.id))).not.toContain('X-HM://');

    const pdf = outcome.result.labelPdfPath!;
    const svgPath = pdf.replace(/\.pdf$/, '.svg');
    expect(pdf.startsWith(join(dir, 'labels'))).toBe(true);
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe('%PDF-');
    expect(readFileSync(svgPath, 'utf8')).toBe(outcome.result.labelSvg);
    expect(statSync(pdf).mode & 0o777).toBe(0o600);
    expect(statSync(svgPath).mode & 0o777).toBe(0o600);
    expect(pdf).not.toContain(stored.setupCode);

    off();
    registry.remove('virtual:a');
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    await station.provisionNext('virtual:a');
    expect(states).toHaveLength(HAPPY_PATH.length); // unsubscribed
    expect(await station.counters()).toMatchObject({ units: 2, failures: 0 });
  });

  it('refuses a second request on a busy port; other ports run concurrently', async () => {
    const { station, registry } = await demoStation();
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    registry.create('virtual:b', { chip: 'esp32c3', mac: randomMac(), pacing: false });
    const [a, again, b] = await Promise.all([station.provisionNext('virtual:a'), station.provisionNext('virtual:a'), station.provisionNext('virtual:b')]);
    expect(a.kind).toBe('done');
    expect(again).toMatchObject({ kind: 'failed', code: 'port-busy' });
    expect(b.kind).toBe('done');
  });

  it('retry(unitId) refuses a different unit on the port and spends no identity on it', async () => {
    const { station, registry, db } = await demoStation();
    const mac = randomMac();
    const chip = registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    chip.injectFault({ kind: 'corrupt-write' });
    const failed = await station.provisionNext('virtual:a');
    expect(failed).toMatchObject({ kind: 'failed', code: 'verify-mismatch' });
    if (failed.kind !== 'failed') return;
    expect((await db.getUnit(failed.unitId!))!.failure).toMatch(/verif|differ|mismatch/i);

    registry.remove('virtual:a');
    registry.create('virtual:a', { chip: 'esp32', mac: randomMac(), pacing: false });
    const wrong = await station.retry(failed.unitId!);
    expect(wrong).toMatchObject({ kind: 'failed', code: 'wrong-unit', stage: 'identity' });
    expect(await db.listUnits({ limit: 100 })).toHaveLength(1);

    registry.remove('virtual:a');
    const back = registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    const ok = await station.retry(failed.unitId!);
    expect(ok.kind).toBe('done');
    if (ok.kind !== 'done') return;
    expect(ok.result.unit.id).toBe(failed.unitId);
    expect(pairSetup(setupDataOnFlash(back.flash).salt!, setupDataOnFlash(back.flash).verifier!, codeOnLabel(ok.result.labelSvg)!)).toEqual({ ok: true });
  });

  it('cancel() stops a stalled write: failed, identity kept, retry completes with it', async () => {
    const { station, registry, db } = await demoStation();
    const mac = randomMac();
    const chip = registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    chip.injectFault({ kind: 'stall', afterBytes: 9000 });
    // the chip stalls early in the write; the operator presses Cancel well before the 5 s timeout
    let cancelled = false;
    const off = station.on('stage', (e) => {
      if (e.stage === 'flash' && !cancelled) (cancelled = true), setTimeout(() => station.cancel('virtual:a'), 300);
    });
    const out = await station.provisionNext('virtual:a');
    expect(out).toMatchObject({ kind: 'failed', code: 'cancelled', stage: 'flash' });
    const unit = (await db.findByMac('demo-smart-plug', mac))!;
    expect(unit.status).toBe('failed');
    off();
    chip.clearFaults();
    const ok = await station.retry('virtual:a');
    expect(ok.kind === 'done' && ok.result.unit.id === unit.id).toBe(true);
  }, 180_000);

  it('resumeIncomplete: a unit a crash left "flashing" is marked interrupted and completes with its identity', async () => {
    const { station, registry, db, profile } = await demoStation();
    const mac = randomMac();
    const p = profile.profile;
    const payloadOf = (setupCode: string, setupId: string) => buildSetupPayload({ category: p.category, setupCode, setupId, flags: p.flags });
    // What a station killed mid-write leaves behind: a reserved identity, status flashing.
    await db.upsertProduct(p);
    const { unit } = await db.reserveIdentity({
      product: profile.profile.id, mac, chip: 'esp32', station: 'test-bench', operator: 'tester', usePool: false, poolPayload: () => '',
      fresh: ({ setupCode, setupId }) => ({ setupCode, setupId, ...generateSetupInfo(setupCode), payload: payloadOf(setupCode, setupId) }),
    });
    await db.setStatus(unit.id, 'flashing', { incrementAttempts: true });
    // another station's in-flight unit is not touched
    const other = (await db.reserveIdentity({
      product: profile.profile.id, mac: randomMac(), chip: 'esp32', station: 'bench-2', operator: 'x', usePool: false, poolPayload: () => '',
      fresh: ({ setupCode, setupId }) => ({ setupCode, setupId, ...generateSetupInfo(setupCode), payload: payloadOf(setupCode, setupId) }),
    })).unit;

    const resumed = await station.resumeIncomplete();
    expect(resumed.map((u) => u.id)).toEqual([unit.id]);
    expect((await db.getUnit(unit.id))!.status).toBe('failed');
    expect((await db.getUnit(unit.id))!.failure).toMatch(/interrupted/i);
    expect((await db.getUnit(other.id))!.status).toBe('reserved');

    const chip = registry.create('virtual:a', { chip: 'esp32', mac, pacing: false });
    const out = await station.provisionNext('virtual:a');
    if (out.kind === 'failed') throw new Error(out.message);
    expect(out.kind).toBe('done'); // no confirmation asked: it never completed
    if (out.kind !== 'done') return;
    expect(out.result.unit.id).toBe(unit.id);
    expect(out.result.setupCode).toBe(formatSetupCode(unit.setupCode));
    const onFlash = setupDataOnFlash(chip.flash);
    expect(onFlash.setupId).toBe(unit.setupId);
    expect(pairSetup(onFlash.salt!, onFlash.verifier!, formatSetupCode(unit.setupCode))).toEqual({ ok: true });
  });

  it('opens its own database from dbPath; labelFor refuses unverified units and returns the code for a reprint', async () => {
    const { dir, profile, registry, db } = await demoStation();
    await db.close();
    const station = new Station({ dbPath: join(dir, 'own.db'), profile, labelDir: join(dir, 'l2'), stationName: 's', operator: 'o', virtualRegistry: registry });
    const chip = registry.create('virtual:z', { chip: 'esp32s3', mac: randomMac(), pacing: false });
    chip.injectFault({ kind: 'corrupt-write' });
    const failed = await station.provisionNext('virtual:z');
    if (failed.kind !== 'failed') throw new Error('expected a failure');
    await expect(station.labelFor(failed.unitId!)).rejects.toMatchObject({ code: 'not-verified' });
    chip.clearFaults();
    const ok = await station.retry('virtual:z');
    if (ok.kind !== 'done') throw new Error(JSON.stringify(ok));
    expect((await station.getUnit(ok.result.unit.id))!.status).toBe('label-pending');
    const reprint = await station.labelFor(ok.result.unit.id);
    expect(reprint.setupCode).toBe(ok.result.setupCode);
    expect(reprint.labelSvg).toBe(ok.result.labelSvg);
    await station.labelPrinted(ok.result.unit.id, 'Printed on test');
    expect(await station.getUnit(ok.result.unit.id)).toMatchObject({ status: 'done', labelPrintCount: 1 });
    await station.close();
    expect(existsSync(join(dir, 'own.db'))).toBe(true);
  });
});
