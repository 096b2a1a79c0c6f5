// `npm run bench station`: units per hour through the whole station pipeline (connect, reserve,
// image, flash + MD5 verify, record, label SVG + PDF) on virtual chips without baud pacing, so the
// number is the station's own overhead, not the serial line's. One port vs four ports at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry } from '../src-main/registry/index.ts';
import { createDemoProfile, loadProfile } from '../src-main/station/profile-file.ts';
import { Station } from '../src-main/station/station.ts';
import { VirtualChipRegistry } from '../src-main/virtual-chip/index.ts';

const UNITS = 20;

function mac(i: number): string {
  return ['24', '0a', 'c4', 'be', (i >> 8).toString(16).padStart(2, '0'), (i & 0xff).toString(16).padStart(2, '0')].join(':');
}

async function run(ports: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-station-'));
  const db = openRegistry(join(dir, 'station.db'), { station: 'bench' });
  try {
    const registry = new VirtualChipRegistry();
    const station = new Station({ db, profile: await loadProfile(await createDemoProfile(dir)), labelDir: join(dir, 'labels'), stationName: 'bench', operator: 'bench', virtualRegistry: registry });
    const paths = Array.from({ length: ports }, (_, i) => `virtual:bench-${i}`);
    let next = 0;
    const flashMs: number[] = [];
    const t = performance.now();
    await Promise.all(
      paths.map(async (path) => {
        while (next < UNITS) {
          const n = next++;
          registry.remove(path);
          registry.create(path, { chip: 'esp32', mac: mac(n), pacing: false });
          const out = await station.provisionNext(path);
          if (out.kind !== 'done') throw new Error(`${path}: ${out.kind === 'failed' ? out.message : out.kind}`);
          flashMs.push(out.result.timings.flashMs);
        }
      }),
    );
    const ms = performance.now() - t;
    flashMs.sort((a, b) => a - b);
    console.log(
      `${ports} port(s): ${UNITS} units in ${(ms / 1000).toFixed(1)} s = ${((UNITS / ms) * 3_600_000).toFixed(0)} units/h; ` +
        `per unit ${(ms / UNITS / (1 / ports)).toFixed(0)} ms wall per port; median flash+verify ${flashMs[flashMs.length >> 1]} ms`,
    );
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function bench(): Promise<void> {
  await run(1);
  await run(4);
}
