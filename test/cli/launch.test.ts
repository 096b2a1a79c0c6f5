// The bins start from cached esbuild bundles, or from the TypeScript sources through tsx
// (FACTORY_STATION_NO_BUNDLE=1): both must behave exactly like the in-process CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main as stationMain } from '../../src-main/cli/factory-station.ts';
import { main as nvsGenMain } from '../../src-main/cli/factory-nvs-gen.ts';
import { memoryIO } from '../../src-main/cli/io.ts';
import { CACHE_SUBDIR } from '../../src-main/bundle/cache.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

function runBin(bin: string, args: string[], noBundle: boolean) {
  const env = { ...process.env, FACTORY_STATION_NO_BUNDLE: noBundle ? '1' : '0' };
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', bin), ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function runInProcess(main: (argv: string[], io: ReturnType<typeof memoryIO>) => Promise<number>, args: string[]) {
  const io = memoryIO(ROOT);
  const code = await main(args, io);
  return { code, out: io.out, err: io.err };
}

describe.each([
  ['factory-station', stationMain, ['payload', '--category', '5', '--code', '11122333', '--id', 'ES32', '--flags', 'ip']],
  ['factory-station', stationMain, ['payload', '--category', '5', '--code', '12345678', '--id', 'ES32']],
  ['factory-nvs-gen', nvsGenMain, ['--help']],
] as const)('bin/%s %#', (bin, main, args) => {
  it('bundled, from sources and in-process: same stdout, stderr and exit code', async () => {
    const want = await runInProcess(main, [...args]);
    const bundled = runBin(bin, [...args], false);
    const sources = runBin(bin, [...args], true);
    expect(bundled).toEqual(want);
    expect(sources).toEqual(want);
  });
});

describe('bundle cache', () => {
  it('records what the CLI bundle is made of after a bundled run', () => {
    expect(runBin('factory-station', ['--help'], false).code).toBe(0);
    const recordPath = join(ROOT, CACHE_SUBDIR, 'factory-station.json');
    const record = JSON.parse(readFileSync(recordPath, 'utf8')) as { key: string; inputs: string[]; dir: string };
    expect(record.inputs).toContain('src-main/cli/factory-station.ts');
    expect(record.inputs).toContain('src-main/batch/run.ts');
    expect(record.key).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(join(ROOT, CACHE_SUBDIR, record.dir, 'factory-station.mjs'))).toBe(true);
  });
});
