// Acceptance (issue 15): the line's PostgreSQL server stops for 5 s in the middle of a run. The
// unit whose reservation was in flight is not flashed while its reservation cannot commit; the
// station says once that the database is unreachable and once that it is back, reconnects by
// itself, and the run completes; every board ends with exactly its registry record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateRegistry, openRegistry, type RegistryStatus } from '../../src-main/registry/index.ts';
import { createDemoProfile, loadProfile } from '../../src-main/station/profile-file.ts';
import { Station, type ProvisionOutcome } from '../../src-main/station/station.ts';
import { VirtualChipRegistry, type VirtualChip } from '../../src-main/virtual-chip/index.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { PgCluster, STATION_PASSWORD } from '../helpers/pg-cluster.ts';
import { FACTORY_NVS } from '../station/helpers.ts';
import { expectDeviceMatches } from './helpers.ts';

const UNITS = 24;
const HELD_UNIT = 8;

let cluster: PgCluster;
let dir: string;

beforeAll(async () => {
  useOpenSslModPow();
  cluster = await PgCluster.start();
  dir = mkdtempSync(join(tmpdir(), 'hkfs-line-outage-'));
}, 240_000);
afterAll(async () => {
  await cluster?.destroy();
});

const blank = (chip: VirtualChip) => chip.flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size).every((b) => b === 0xff);

describe('the line server stops for 5 s mid-run', () => {
  it('no unit is flashed without a committed reservation; the station reconnects and the run completes', async () => {
    const url = await cluster.createDatabase('line');
    await migrateRegistry(url, { station: 'engineer' });
    const chips = new VirtualChipRegistry();
    const station = new Station({ dbPath: url, profile: await loadProfile(await createDemoProfile(dir)), labelDir: join(dir, 'labels'), stationName: 'outage', operator: 'o', virtualRegistry: chips, labelCompletes: 'done' });
    const statuses: RegistryStatus[] = [];
    station.on('registry', (e) => statuses.push(e.state));
    const waitingTiles = new Set<string>();
    station.on('port-state', (e) => { if (e.state.message === 'Waiting for the production database…') waitingTiles.add(e.port); });

    // The outage: before the held unit starts, the units table is locked, so its reservation waits
    // (in flight, uncommitted); once a reservation waits, the server stops for 5 s. The lock is
    // taken before the held unit connects — not on its 'connect' stage — so that under CPU load its
    // reservation cannot slip through before the lock (the other port's unit may wait too).
    let outage: Promise<void> | undefined;
    let heldChip: VirtualChip | undefined;
    let heldBlankDuringOutage: boolean | undefined;
    let started = 0;
    const lockUnits = async () => {
      const locker = new pg.Client({ host: cluster.dir, port: cluster.port, user: 'postgres', database: 'line' });
      locker.on('error', () => undefined); // its connection is cut by the stop
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE units IN EXCLUSIVE MODE');
    };
    const stopWhileWaiting = async () => {
      await expect.poll(async () => (await cluster.admin((c) => c.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'factory-station outage' AND wait_event_type = 'Lock'"))).rowCount, { timeout: 60_000 }).toBeGreaterThan(0);
      await cluster.stopServer('fast');
      await new Promise((r) => setTimeout(r, 5_000));
      heldBlankDuringOutage = blank(heldChip!);
      await cluster.startServer();
    };

    const macOf = (i: number) => `24:0a:c4:77:00:${i.toString(16).padStart(2, '0')}`;
    const outcomes: { mac: string; outcome: ProvisionOutcome; chip: VirtualChip }[] = [];
    let next = 0;
    await Promise.all([0, 1].map(async (p) => {
      const port = `virtual:outage-${p}`;
      while (next < UNITS) {
        const i = next++;
        chips.remove(port);
        const chip = chips.create(port, { chip: 'esp32', mac: macOf(i), pacing: false });
        if (++started === HELD_UNIT) {
          heldChip = chip;
          await lockUnits();
          outage = stopWhileWaiting();
        }
        outcomes.push({ mac: macOf(i), outcome: await station.provisionNext(port), chip });
      }
    }));
    await outage;
    await station.close();

    expect(heldBlankDuringOutage).toBe(true); // the held unit was not written while its reservation could not commit
    expect(outcomes.map((o) => (o.outcome.kind === 'failed' ? `${o.mac}: ${o.outcome.message}` : o.outcome.kind))).toEqual(Array(UNITS).fill('done'));
    expect(statuses.map((s) => s.online)).toEqual([false, true]); // one message when it went, one when it was back
    expect(statuses[0]!.message).toMatch(/^The production database is not reachable — postgres:\/\/127\.0\.0\.1:\d+\/line: /);
    expect(JSON.stringify(statuses)).not.toContain(STATION_PASSWORD);
    expect(waitingTiles.size).toBeGreaterThan(0);

    const reg = openRegistry(url, { station: 'check' });
    try {
      const units = await reg.listUnits({ limit: 1000 });
      expect(units).toHaveLength(UNITS);
      expect(new Set(units.map((u) => u.setupCode)).size).toBe(UNITS);
      const byMac = new Map(units.map((u) => [u.mac, u]));
      for (const o of outcomes) {
        const region = Buffer.from(o.chip.flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size)).toString('base64');
        expectDeviceMatches({ mac: o.mac, kind: 'done', code: null, unitId: null, nvs: region, blank: false }, byMac.get(o.mac), true);
      }
      expect(await reg.incompleteUnits()).toEqual([]);
    } finally {
      await reg.close();
    }
  }, 300_000);
});
