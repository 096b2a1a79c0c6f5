// One station of a production line, as its own process (for the line acceptance tests): the real
// Station service on a registry given by URL, provisioning `units` virtual boards (no baud pacing)
// on `ports` ports at once. For every board it writes one JSON line to `out`: the board's MAC, the
// run's outcome and — for a flashed board — the factory NVS region read back from the virtual
// chip's flash, so the test can compare what the device holds with the registry's record.
//   node bin/run-ts.mjs test/line/station-process.ts '<json config>'
import { appendFileSync } from 'node:fs';
import { loadProfile } from '../../src-main/station/profile-file.ts';
import { Station } from '../../src-main/station/station.ts';
import { VirtualChipRegistry } from '../../src-main/virtual-chip/index.ts';
import { FACTORY_NVS } from '../station/helpers.ts';

interface Config {
  db: string;
  station: string;
  profile: string;
  labels: string;
  out: string;
  units: number;
  ports: number;
  /** Second MAC byte: one per station, so the stations' boards never share a MAC. */
  tag: number;
  usePool?: boolean;
  whenPoolEmpty?: 'stop' | 'fresh';
}

const config = JSON.parse(process.argv[2]!) as Config;
const mac = (i: number) => ['24', config.tag.toString(16).padStart(2, '0'), 'c4', '5e', (i >> 8).toString(16).padStart(2, '0'), (i & 255).toString(16).padStart(2, '0')].join(':');

const chips = new VirtualChipRegistry();
const station = new Station({
  dbPath: config.db, profile: await loadProfile(config.profile), labelDir: config.labels, stationName: config.station, operator: 'line-test',
  virtualRegistry: chips, usePool: config.usePool, whenPoolEmpty: config.whenPoolEmpty, labelCompletes: 'done',
});
station.on('registry', (e) => appendFileSync(config.out, `${JSON.stringify({ registry: e.state.online })}\n`));
let next = 0;
await Promise.all(Array.from({ length: config.ports }, async (_, p) => {
  const port = `virtual:${config.station}-${p}`;
  while (next < config.units) {
    const i = next++;
    chips.remove(port);
    const chip = chips.create(port, { chip: 'esp32', mac: mac(i), pacing: false });
    const outcome = await station.provisionNext(port);
    const region = chip.flash.subarray(FACTORY_NVS.offset, FACTORY_NVS.offset + FACTORY_NVS.size);
    const nvs = outcome.kind === 'done' ? Buffer.from(region).toString('base64') : null;
    // A board that was refused must not hold anything in its factory NVS partition.
    const blank = region.every((b) => b === 0xff);
    appendFileSync(config.out, `${JSON.stringify({ mac: mac(i), kind: outcome.kind, code: outcome.kind === 'failed' ? outcome.code : null, unitId: outcome.kind === 'done' ? outcome.result.unit.id : null, nvs, blank })}\n`);
  }
}));
await station.close();
