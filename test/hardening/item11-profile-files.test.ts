// Issue 13, item 11: the renderer cannot make main read arbitrary files: a profile's file
// references are confined to the profiles folder unless the engineer picked them in main's file
// dialog, and errors about referenced files never quote their content.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import { HOMEKIT_PARTITION_CSV } from '../../src-main/station/profile-file.ts';
import { tempDir } from './helpers.ts';

describe('item 11: profile file references', () => {
  it('item 11: a saved profile cannot point outside its folder unless the file was picked in the dialog; errors never quote file content', async () => {
    const root = tempDir('item11');
    const elsewhere = join(root, 'firmware');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'table.csv'), HOMEKIT_PARTITION_CSV);
    let picked: string | null = null;
    const platform: Platform = {
      pickFile: async () => picked,
      pickManifestPath: async () => null,
      pickPoolManifest: async () => null,
      listPrinters: async () => [],
      printLabel: async () => undefined,
      saveLabelPdf: async () => undefined,
    };
    const core = await AppCore.open({ dataDir: join(root, 'data'), demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform });
    const handlers = createHandlers(core);
    const call = (m: string, ...a: unknown[]) => dispatch(handlers, m, a);
    try {
      const { profile } = await core.getProfile('demo-profile.json');
      for (const ref of ['/etc/passwd', '../../../../etc/passwd', join(elsewhere, 'table.csv')]) {
        const r = await call('saveProfile', 'demo-profile.json', { ...profile, firmware: { partitionTable: 'partitions_hap.csv', flasherArgs: ref } });
        expect(r, ref).toMatchObject({ ok: false, error: { message: expect.stringMatching(/firmware\.flasherArgs: .*(profiles folder|choose it with)/) } });
      }
      // picked in main's dialog: allowed
      picked = join(elsewhere, 'table.csv');
      expect(await call('pickFile', 'partitionTable')).toEqual({ ok: true, value: picked });
      const ok = await call('saveProfile', 'demo-profile.json', { ...profile, firmware: { partitionTable: picked } });
      expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true });

      // inside the folder but not what it claims to be: the error names the field, never the content
      writeFileSync(join(root, 'data', 'profiles', 'secret.json'), 'root:x:0:0:root:/root:/bin/bash\n');
      await call('saveProfile', 'demo-profile.json', { ...profile, firmware: { partitionTable: 'partitions_hap.csv', flasherArgs: 'secret.json' } });
      const snap = core.snapshot();
      expect(snap.productError).toMatch(/firmware\.flasherArgs/);
      expect(snap.productError).not.toMatch(/root:x|bin\/bash/);
      const list = await core.listProfiles();
      expect(JSON.stringify(list)).not.toMatch(/root:x/);
      expect(readFileSync(join(root, 'data', 'profiles', 'demo-profile.json'), 'utf8')).toContain('secret.json');
    } finally {
      await core.close();
    }
  });
});
