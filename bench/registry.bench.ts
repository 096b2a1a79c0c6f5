// `npm run bench registry`: identity reservations per second through the registry alone (no
// flashing, no SRP: the salt and verifier are stand-ins), on each engine, with 1 station and with
// 4 stations at once (4 threads, each with its own connection(s), as 4 station processes would
// have). Both engines durable: SQLite synchronous=FULL (WAL), PostgreSQL with fsync on (a throw-away
// cluster from Debian's postgresql package on 127.0.0.1). A reservation is one transaction: find
// the MAC, draw a code and an ID and check both against the issued ones, insert the unit, the two
// issued values and an audit row, commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { migrateRegistry, openRegistry } from '../src-main/registry/index.ts';
import { PgCluster } from '../test/helpers/pg-cluster.ts';

const PER_STATION = 400;

const WORKER = `
  import { workerData, parentPort } from 'node:worker_threads';
  const { register } = await import(workerData.tsxApi);
  register();
  const { openRegistry } = await import(workerData.registryModule);
  const db = openRegistry(workerData.where, { station: workerData.station });
  const salt = new Uint8Array(16), verifier = new Uint8Array(384);
  const mac = (i) => ['24', workerData.tag, (i >> 16).toString(16).padStart(2, '0'), ((i >> 8) & 255).toString(16).padStart(2, '0'), (i & 255).toString(16).padStart(2, '0'), '01'].join(':');
  await db.reserveIdentity({ product: 'bench', mac: mac(999999), chip: 'esp32', station: workerData.station, operator: 'b', usePool: false, poolPayload: () => '', fresh: (d) => ({ ...d, salt, verifier, payload: 'X-HM://' + d.setupId }) });
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  const t = performance.now();
  for (let i = 0; i < workerData.count; i++) {
    await db.reserveIdentity({ product: 'bench', mac: mac(i), chip: 'esp32', station: workerData.station, operator: 'b', usePool: false, poolPayload: () => '', fresh: (d) => ({ ...d, salt, verifier, payload: 'X-HM://' + d.setupId }) });
  }
  parentPort.postMessage(performance.now() - t);
  await db.close();`;

async function run(where: string, stations: number): Promise<number> {
  const prep = openRegistry(where, { station: 'bench' });
  await prep.upsertProduct({ id: 'bench', productName: 'Bench', category: 7 });
  await prep.close();
  const workers = Array.from({ length: stations }, (_, s) => new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER)}`), {
    workerData: { where, station: `bench-${s}`, tag: (0x10 + s).toString(16), count: PER_STATION, tsxApi: import.meta.resolve('tsx/esm/api'), registryModule: pathToFileURL(join(import.meta.dirname, '../src-main/registry/index.ts')).href },
  }));
  const message = (w: Worker) => new Promise<unknown>((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));
  await Promise.all(workers.map(message)); // every station connected and warm
  const t = performance.now();
  const done = workers.map(message);
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  return (stations * PER_STATION) / ((performance.now() - t) / 1000);
}

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-registry-'));
  const cluster = await PgCluster.start({ durable: true });
  try {
    for (const stations of [1, 4]) {
      const file = join(dir, `s${stations}.db`);
      const sqlite = await run(file, stations);
      const url = await cluster.createDatabase(`bench${stations}`);
      await migrateRegistry(url, { station: 'bench' });
      const postgres = await run(url, stations);
      console.log(`${stations} station(s): SQLite ${sqlite.toFixed(0)} reservations/s, PostgreSQL ${postgres.toFixed(0)} reservations/s (${stations * PER_STATION} reservations each)`);
    }
    console.log('limit: each reservation is one durable commit (a WAL flush); SQLite lets one writer in at a time, PostgreSQL');
    console.log('commits the stations\' transactions side by side (group commit). A station flashes a unit in ~10–30 s, so a');
    console.log('line needs well under 1 reservation/s per station: the registry is never what limits a line.');
  } finally {
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
