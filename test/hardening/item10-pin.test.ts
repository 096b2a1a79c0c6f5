// Issue 13, item 10: the engineer PIN cannot be brute-forced: wrong PINs lock the unlock out for a
// growing time (kept across restarts), scrypt runs off the main thread, and the lock also covers
// auto-provision and the identity pool.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { station, tempDir } from './helpers.ts';

const platform: Platform = {
  pickFile: async () => null,
  pickManifestPath: async () => null,
  pickPoolManifest: async () => null,
  listPrinters: async () => [],
  printLabel: async () => undefined,
  saveLabelPdf: async () => undefined,
};

describe('item 10: engineer PIN', () => {
  it('item 10: repeated wrong PINs lock unlocking out (even the right PIN), across a restart, until the wait is over', async () => {
    const dataDir = join(tempDir('item10'), 'data');
    let now = Date.parse('2030-01-01T08:00:00Z');
    const open = () => AppCore.open({ dataDir, demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform, clock: () => now } as never);
    let core = await open();
    await core.setPin('demo-profile.json', '4321');
    core.lock();
    // the lock covers the identity source and auto-provision
    await expect(core.setSettings({ autoProvision: true })).rejects.toMatchObject({ code: 'locked' });
    await expect(core.setSettings({ usePool: true })).rejects.toMatchObject({ code: 'locked' });

    // scrypt does not block the main thread: the event loop keeps turning during a check
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    const check = Promise.resolve(core.unlock('0000')).catch((e: unknown) => e);
    expect(await check).toMatchObject({ code: 'wrong-pin' });
    clearInterval(ticker);
    expect(turns).toBeGreaterThan(0);

    for (let i = 0; i < 4; i++) await expect(Promise.resolve().then(() => core.unlock('0000'))).rejects.toMatchObject({ code: 'wrong-pin' });
    // five wrong PINs: locked out, the right PIN included
    await expect(Promise.resolve().then(() => core.unlock('4321'))).rejects.toMatchObject({ code: 'locked-out' });
    await core.close();

    core = await open(); // a restart does not reset the count
    await expect(Promise.resolve().then(() => core.unlock('4321'))).rejects.toMatchObject({ code: 'locked-out' });
    now += 31_000;
    await expect(Promise.resolve().then(() => core.unlock('0000'))).rejects.toMatchObject({ code: 'wrong-pin' });
    // each further wrong PIN doubles the wait
    now += 31_000;
    await expect(Promise.resolve().then(() => core.unlock('4321'))).rejects.toMatchObject({ code: 'locked-out', message: expect.stringMatching(/try again in 29 s/) });
    now += 61_000;
    expect(await core.unlock('4321')).toBe(true);
    // a success clears the count
    core.lock();
    for (let i = 0; i < 4; i++) await expect(Promise.resolve().then(() => core.unlock('0000'))).rejects.toMatchObject({ code: 'wrong-pin' });
    expect(await core.unlock('4321')).toBe(true);
    await core.close();
  });

  it('item 10: the command line says in --help that it is the engineer\'s tool and asks for no PIN', async () => {
    const dir = tempDir('item10b');
    for (const argv of [['--help'], ['provision', '--help'], ['pool', '--help']]) {
      const r = await station(dir, argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out, argv.join(' ')).toMatch(/engineer's tool[\s\S]*PIN/);
    }
  });
});
