// The app's own settings in `settings.json` (mode 0600): the active profile, auto-provision, pool
// identities (and what an empty pool does), the production database chosen in Settings (a URL may
// hold a password: this file is the only place it is kept), and where the current shift started. A damaged file falls back to defaults (the
// profile itself is still validated when it is loaded); a missing shift start starts one now.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppSettings } from '../../shared/ipc.ts';
import { writeFileAtomic } from '../fs/index.ts';

export const SETTINGS_FILE = 'settings.json';

export interface SettingsValues extends AppSettings {
  activeProfile: string;
  /** The production registry the engineer chose (file path or postgres:// URL, as typed); absent: production.db here. */
  database?: string;
  /** Start of the current shift (ISO); the counters count from here. */
  shiftStart: string;
}

export class SettingsFile {
  readonly values: SettingsValues = { activeProfile: 'demo-profile.json', autoProvision: false, usePool: false, whenPoolEmpty: 'stop', shiftStart: new Date().toISOString() };

  constructor(private readonly dataDir: string) {}

  async load(): Promise<void> {
    const path = join(this.dataDir, SETTINGS_FILE);
    const v = this.values;
    let fresh = true;
    if (existsSync(path)) {
      try {
        const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<SettingsValues>;
        if (typeof raw.activeProfile === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*\.json$/.test(raw.activeProfile)) v.activeProfile = raw.activeProfile;
        if (typeof raw.autoProvision === 'boolean') v.autoProvision = raw.autoProvision;
        if (typeof raw.usePool === 'boolean') v.usePool = raw.usePool;
        if (raw.whenPoolEmpty === 'stop' || raw.whenPoolEmpty === 'fresh') v.whenPoolEmpty = raw.whenPoolEmpty;
        if (typeof raw.database === 'string' && raw.database.trim() !== '') v.database = raw.database;
        if (typeof raw.shiftStart === 'string' && !Number.isNaN(Date.parse(raw.shiftStart))) (v.shiftStart = raw.shiftStart), (fresh = false);
      } catch {
        // defaults
      }
    }
    if (fresh) await this.save();
  }

  save(): Promise<void> {
    return writeFileAtomic(join(this.dataDir, SETTINGS_FILE), `${JSON.stringify(this.values, null, 2)}\n`, 0o600);
  }

  /** The part of a patch that really changes a setting (a value equal to the current one is no change). */
  changes(patch: Partial<AppSettings>): Partial<AppSettings> {
    const out: Partial<AppSettings> = {};
    if (patch.autoProvision !== undefined && patch.autoProvision !== this.values.autoProvision) out.autoProvision = patch.autoProvision;
    if (patch.usePool !== undefined && patch.usePool !== this.values.usePool) out.usePool = patch.usePool;
    if (patch.whenPoolEmpty !== undefined && patch.whenPoolEmpty !== this.values.whenPoolEmpty) out.whenPoolEmpty = patch.whenPoolEmpty;
    return out;
  }

  /** What the renderer may see and change. */
  get public(): AppSettings {
    return { autoProvision: this.values.autoProvision, usePool: this.values.usePool, whenPoolEmpty: this.values.whenPoolEmpty };
  }
}
