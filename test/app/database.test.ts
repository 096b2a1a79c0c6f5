// The app on a line's PostgreSQL registry (a throw-away cluster): Settings → Production database
// switches to it only once it answers at this version's schema, shows it back without credentials,
// keeps it across a restart; History filters by station and counts per station; a server that stops
// is one clear message, and the station goes on when it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import { migrateRegistry, openRegistry } from '../../src-main/registry/index.ts';
import type { AppSnapshot, DatabaseInfo, LineCounts, ProvisionReply, StationHandlers } from '../../shared/ipc.ts';
import { PgCluster, STATION_PASSWORD } from '../helpers/pg-cluster.ts';
import { FACTORY_NVS } from '../station/helpers.ts';

let cluster: PgCluster;
let core: AppCore;
let handlers: StationHandlers;
let dataDir: string;
let url: string;

const platform: Platform = {
  pickFile: async () => null,
  pickManifestPath: async (name) => join(dataDir, name),
  pickPoolManifest: async () => null,
  listPrinters: async () => [],
  printLabel: async () => undefined,
  saveLabelPdf: async (_job, path) => writeFileSync(path, '%PDF-stand-in'),
};
const call = (method: string, ...args: unknown[]) => dispatch(handlers, method, args);
const snapshot = async () => ((await call('getSnapshot')) as { value: AppSnapshot }).value;
const open = async (databaseRetryMs: number | undefined = 1_000) => {
  core = await AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform, stationName: 'bench-7', databaseRetryMs });
  handlers = createHandlers(core);
};
async function provision(): Promise<ProvisionReply> {
  const port = ((await call('demoAddChip', 'esp32')) as { value: string }).value;
  return ((await call('provisionNext', port)) as { value: ProvisionReply }).value;
}

beforeAll(async () => {
  cluster = await PgCluster.start();
  url = await cluster.createDatabase('line');
  dataDir = mkdtempSync(join(tmpdir(), 'hkfs-app-db-'));
  await open();
}, 240_000);
afterAll(async () => {
  await core?.close();
  await cluster?.destroy();
});

describe('the production database in the app', () => {
  it('starts on its own file; refuses a location that is not a full path or a postgres URL, without echoing it', async () => {
    expect((await snapshot()).database).toEqual({ engine: 'sqlite', location: join(dataDir, 'production.db'), source: 'default', online: true, message: null });
    expect(await call('setDatabase', 'relative.db')).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('full path') } });
    const bad = await call('setDatabase', `mysql://u:${STATION_PASSWORD}@h/x`);
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
    expect(JSON.stringify(bad)).not.toContain(STATION_PASSWORD);
  });

  it('a server database is used only once it is migrated; then the URL is shown without its password and kept in settings.json (0600)', async () => {
    const refused = await call('setDatabase', url);
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('run factory-station db migrate') } });
    expect(JSON.stringify(refused)).not.toContain(STATION_PASSWORD);
    expect((await snapshot()).database.engine).toBe('sqlite'); // the old one stays
    await migrateRegistry(url, { station: 'engineer' });
    const r = (await call('setDatabase', url)) as { ok: true; value: DatabaseInfo };
    expect(r).toMatchObject({ ok: true, value: { engine: 'postgres', location: `postgres://127.0.0.1:${cluster.port}/line`, source: 'settings', online: true } });
    expect(JSON.stringify(await snapshot())).not.toContain(STATION_PASSWORD);
    const settings = join(dataDir, 'settings.json');
    expect(JSON.parse(readFileSync(settings, 'utf8')).database).toBe(url);
    expect(statSync(settings).mode & 0o777).toBe(0o600);
  });

  it('units go to the line; history filters by station and counts per station; the choice survives a restart', async () => {
    expect(await provision()).toMatchObject({ kind: 'done', result: { unit: { station: 'bench-7' } } });
    // another station of the line made a unit too
    const other = openRegistry(url, { station: 'bench-8' });
    await other.attempts.record({ station: 'bench-8', product: 'demo-smart-plug', kind: 'provision', outcome: 'failed', stage: 'connect', code: 'no-download-mode', message: 'No device in download mode' });
    await other.close();
    await core.close();
    await open();
    expect((await snapshot()).database).toMatchObject({ engine: 'postgres', online: true });
    expect(await call('listStations')).toEqual({ ok: true, value: ['bench-7', 'bench-8'] });
    const mine = (await call('listUnits', { station: 'bench-7' })) as { value: { station: string }[] };
    expect(mine.value.map((u) => u.station)).toEqual(['bench-7']);
    expect((await call('listUnits', { station: 'bench-8' })) as { value: unknown[] }).toMatchObject({ value: [] });
    const failed = (await call('listAttempts', { outcome: 'failed' })) as { value: { station: string }[] };
    expect(failed.value.map((a) => a.station)).toEqual(['bench-8']);
    const line = (await call('lineCounts', {})) as { ok: true; value: LineCounts };
    expect(line.value.stations).toMatchObject([{ station: 'bench-7', units: 1, failures: 0 }, { station: 'bench-8', units: 0, failures: 1 }]);
    expect(await call('lineCounts', { station: 'x'.repeat(200) })).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('query.station') } });
    expect(await call('lineCounts', { from: '2026-02-02', to: '2026-01-01' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });

  it('the server stops: the unit fails with one clear message and nothing written; when it is back the station goes on by itself', async () => {
    const events: string[] = [];
    const off = core.on((e) => { if (e.type === 'registry') events.push(e.state.online ? 'back' : `gone: ${e.state.message}`); });
    await cluster.stopServer('fast');
    const down = await provision();
    expect(down).toMatchObject({ kind: 'failed', code: 'registry-offline' });
    expect(JSON.stringify(down)).not.toContain(STATION_PASSWORD);
    const snap = await snapshot();
    expect(snap.database.online).toBe(false);
    expect(snap.database.message).toMatch(/postgres:\/\/127\.0\.0\.1:\d+\/line: (connection refused|the connection was lost)/);
    const chip = core.bench.registry.get((down as { port: string }).port)!;
    expect(chip.flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size).every((b) => b === 0xff)).toBe(true); // nothing written
    await cluster.startServer();
    expect(await provision()).toMatchObject({ kind: 'done' });
    expect((await snapshot()).database.online).toBe(true);
    expect(events).toEqual([expect.stringMatching(/^gone: The production database is not reachable/), 'back']);
    off();
  }, 180_000);

  it('the station starts while its line server is down (it does not wait the 2 minutes a unit would), says so, and works once it is back', async () => {
    await core.close();
    await cluster.stopServer('fast');
    await open(undefined); // the default 2-minute wait for work; the test's own limit is far shorter
    const snap = await snapshot();
    expect(snap.database).toMatchObject({ engine: 'postgres', online: false });
    expect(JSON.stringify(snap)).not.toContain(STATION_PASSWORD);
    await cluster.startServer();
    expect(await provision()).toMatchObject({ kind: 'done' });
    expect((await snapshot()).database.online).toBe(true);
  }, 180_000);
});
