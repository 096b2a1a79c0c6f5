// The app's profiles folder: listing, reading for the editor (a profile whose referenced files are
// missing is still editable) and the label preview with sample data. Activation, saving and the
// PIN lock stay in AppCore, which knows what is running.
import { serialLabelText } from '../../shared/station/serial.ts';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buildSetupPayload } from '../../shared/homekit/payload.ts';
import { layoutLabel, renderLabelSvg, validateLabelSpec, WORST_CASE_UNIT_LINE, type LabelSpec } from '../../shared/label/index.ts';
import type { LabelPreview, ProfileEditorData, ProfileListEntry } from '../../shared/ipc.ts';
import { ProfileError, validateProfile, type ProductProfile } from '../../shared/station/profile.ts';
import { loadProfile } from '../station/profile-file.ts';
import { AppError } from './errors.ts';

const SAMPLE_SETUP_CODE = '518-08-582';
const SAMPLE_SETUP_ID = 'DEMO';

export class ProfilesFolder {
  constructor(readonly dir: string) {}

  /** A file of the folder (a name only: no folders, no traversal). */
  path(file: string): string {
    return join(this.dir, basename(file));
  }

  exists(file: string): boolean {
    return existsSync(this.path(file));
  }

  async list(activeFile: string): Promise<ProfileListEntry[]> {
    const files = readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(files.map((file) => this.entry(file, activeFile)));
  }

  async entry(file: string, activeFile: string): Promise<ProfileListEntry> {
    const active = file === activeFile;
    try {
      const { profile } = await loadProfile(this.path(file));
      return { file, id: profile.id, productName: profile.productName, active, error: null };
    } catch (err) {
      return { file, id: null, productName: null, active, error: err instanceof Error ? err.message : String(err) };
    }
  }

  async forEditor(file: string): Promise<ProfileEditorData> {
    const path = this.path(file);
    if (!existsSync(path)) throw new AppError('not-found', `There is no profile file ${file}.`);
    const loaded = await loadProfile(path).catch(async (err) => {
      // A profile whose referenced files are missing is still editable: validate the JSON alone.
      if (!(err instanceof ProfileError)) throw err;
      const json = JSON.parse(await readFile(path, 'utf8'));
      return { profile: validateProfile(json, file), path, baseDir: this.dir };
    });
    const { lock, ...draft } = loaded.profile;
    return { file, profile: draft, locked: lock !== undefined, baseDir: loaded.baseDir };
  }

  /** The profile JSON alone (no referenced files), or null when missing or invalid. */
  async existing(file: string): Promise<ProductProfile | null> {
    const path = this.path(file);
    if (!existsSync(path)) return null;
    try {
      return validateProfile(JSON.parse(await readFile(path, 'utf8')), file);
    } catch {
      return null;
    }
  }
}

/** The label with sample data, as the editor shows it at real size. */
export function previewLabel(spec: LabelSpec, productName: string): LabelPreview {
  const payload = buildSetupPayload({ category: 1, setupCode: SAMPLE_SETUP_CODE, setupId: SAMPLE_SETUP_ID, flags: { ip: true } });
  // A sample serial line (the profile's scheme checks its widest number when the profile is saved).
  const sample = { productName, mac: 'DD:DD:DD:DD:DD:DD', unit: 'Unit 1234 · Slot 3', serial: serialLabelText('SN-0000123') };
  const problems = validateLabelSpec(spec, { ...sample, unit: WORST_CASE_UNIT_LINE }, { forPdf: false });
  if (problems.length) throw new AppError('profile-invalid', `Label: ${problems.join('; ')}`);
  const layout = layoutLabel(spec, { setupPayload: payload, setupCode: SAMPLE_SETUP_CODE, ...sample });
  return { svg: renderLabelSvg(layout), widthMm: layout.widthMm, heightMm: layout.heightMm };
}
