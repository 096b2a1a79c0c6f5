// Acceptance: a station process SIGKILLed at random points during 20 provisions. After each kill
// the same unit is provisioned again until it completes; in the end no identity is duplicated or
// lost and every unit's flash (persisted virtual chip) matches its database record.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { randomMac, setupDataOnFlash } from './helpers.ts';
import { provisionChild } from '../helpers/provision-child.ts';

/** Where a kill lands: after the child reports this stage (stderr progress line), plus 0-120 ms. */
const KILL_AFTER = ['detect', 'connect', 'identity', 'image', 'flash', 'verify', 'record', 'boot-check', 'label', 'done'] as const;
type KillPoint = (typeof KILL_AFTER)[number];
const provision = (dir: string, state: string, killAfter?: KillPoint) => provisionChild({ cwd: dir, db: 'station.db', state, killAfter, killWithinMs: 120 });

describe('crash safety (SIGKILL during provisioning)', () => {
  it('20 units, killed at random points: every unit completes with one identity, none duplicated or lost', async () => {
    useOpenSslModPow();
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-crash-'));
    await createDemoProfile(dir);
    const macs: string[] = [];
    let kills = 0;
    const killedAt: KillPoint[] = [];
    const identityAfterKill = new Map<string, string>();
    const reservedAtKill = async (mac: string) => {
      const db = openRegistry(join(dir, 'station.db'));
      try {
        return (await db.findByMac('demo-smart-plug', mac))?.setupCode;
      } finally {
        await db.close();
      }
    };
    // Two station processes at once on the same database (two ports of one station), 10 units each.
    const lane = async (lane: number) => {
      for (let k = 0; k < 10; k++) {
        const i = lane * 10 + k;
        const mac = randomMac();
        macs[i] = mac;
        const state = `unit-${i}.json`;
        writeFileSync(join(dir, state), JSON.stringify({ chip: 'esp32', mac }));
        // A random kill point across the whole run; one unit in five runs undisturbed.
        const point = Math.random() < 0.2 ? undefined : KILL_AFTER[Math.floor(Math.random() * KILL_AFTER.length)];
        const first = await provision(dir, state, point);
        if (first.killed) {
          killedAt.push(point!);
          kills++;
          const reserved = await reservedAtKill(mac);
          if (reserved) identityAfterKill.set(mac, reserved);
          // Exit 3 = "already holds its identity; re-flash?": the kill came after the unit was complete.
          let r = await provision(dir, state);
          for (let tries = 0; r.code !== 0 && r.code !== 3 && tries < 3; tries++) r = await provision(dir, state);
          expect([0, 3]).toContain(r.code);
        } else {
          expect(first.code).toBe(0);
        }
      }
    };
    await Promise.all([lane(0), lane(1)]);
    expect(kills, `killed after: ${killedAt.sort().join(' ')}`).toBeGreaterThan(3);
    expect(identityAfterKill.size).toBeGreaterThan(0); // some kills landed after the reservation

    const db = openRegistry(join(dir, 'station.db'));
    const units = await db.listUnits({ limit: 1000 });
    expect(units).toHaveLength(20);
    expect(new Set(units.map((u) => u.mac))).toEqual(new Set(macs));
    expect(new Set(units.map((u) => u.setupCode)).size).toBe(20);
    expect(new Set(units.map((u) => u.setupId)).size).toBe(20);
    expect(await db.incompleteUnits()).toEqual([]);
    for (const u of units) {
      expect(u.status).toBe('done');
      if (identityAfterKill.has(u.mac)) expect(u.setupCode).toBe(identityAfterKill.get(u.mac)); // reserved before the kill, kept after
      const i = macs.indexOf(u.mac);
      const flash = new Uint8Array(readFileSync(join(dir, `unit-${i}.json.flash`)));
      const onDevice = setupDataOnFlash(flash);
      expect(onDevice.setupId).toBe(u.setupId);
      expect(Buffer.from(onDevice.salt!).equals(Buffer.from(u.salt))).toBe(true);
      expect(Buffer.from(onDevice.verifier!).equals(Buffer.from(u.verifier))).toBe(true);
      expect(pairSetup(onDevice.salt!, onDevice.verifier!, formatSetupCode(u.setupCode))).toEqual({ ok: true });
    }
    await db.close();
  }, 480_000);
});
