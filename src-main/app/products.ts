// The active product and the engineer PIN: which profile is in production (loaded and checked, or
// why not), switching and saving profiles, setting the PIN, unlocking and locking. Engineer-only
// decisions (identity source, slots, a new shift, pool imports) ask `requireEngineer` first.
// The app is told of every activation (it points the Station at the new product).
import type { ProductSummary, ProfileDraft, ProfileListEntry } from '../../shared/ipc.ts';
import { labelSize } from '../../shared/label/index.ts';
import { zplAddress } from '../../shared/station/printer.ts';
import { validateProfile, type ProductProfile } from '../../shared/station/profile.ts';
import { hashPin, loadProfile, saveProfile, type LoadedProfile } from '../station/profile-file.ts';
import { AppError } from './errors.ts';
import type { PinGuard } from './pin-guard.ts';
import { checkProfileReferences, PickedFiles } from './profile-refs.ts';
import type { ProfilesFolder } from './profiles.ts';
import type { SettingsFile } from './settings.ts';

export interface ProductsHost {
  /** Why the product may not change now (a unit is running), or null. */
  busy(): string | null;
  /** A profile was activated (null: the file is broken; `Products.error` says why). */
  activated(loaded: LoadedProfile | null): void;
  changed(): void;
}

export class Products {
  loaded: LoadedProfile | null = null;
  error: string | null = null;
  private unlockedFile: string | null = null;
  /** Files the engineer picked in main's dialog: the only paths outside the profiles folder a saved profile may name. */
  readonly picked = new PickedFiles();

  constructor(
    readonly folder: ProfilesFolder,
    private readonly settings: SettingsFile,
    private readonly pinGuard: PinGuard,
    private readonly host: ProductsHost,
  ) {}

  get activeFile(): string {
    return this.settings.values.activeProfile;
  }

  /** The engineer unlocked the PIN-locked active product in this session. */
  get unlocked(): boolean {
    return this.loaded?.profile.lock !== undefined && this.unlockedFile === this.activeFile;
  }

  requireEngineer(action: string): void {
    if (this.loaded?.profile.lock && this.unlockedFile !== this.activeFile) {
      throw new AppError('locked', `The product is locked: an engineer must unlock it with the PIN to ${action}.`);
    }
  }

  /** Loads `file` as the product in production (a broken file leaves no product, with the reason). */
  async load(file: string): Promise<void> {
    const busy = this.host.busy();
    if (busy) throw new AppError('busy', `${busy}: wait for it to finish before changing the product.`);
    this.loaded = null;
    this.unlockedFile = null;
    this.settings.values.activeProfile = file;
    try {
      this.loaded = await loadProfile(this.folder.path(file));
      this.error = null;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.host.activated(this.loaded);
  }

  async activate(file: string): Promise<void> {
    if (!this.folder.exists(file)) throw new AppError('not-found', `There is no profile file ${file}.`);
    if (this.loaded?.profile.lock && this.unlockedFile !== this.activeFile) {
      throw new AppError('locked', 'The current product is locked: an engineer must unlock it with the PIN before switching products.');
    }
    await this.load(file);
    await this.settings.save();
  }

  list(): Promise<ProfileListEntry[]> {
    return this.folder.list(this.activeFile);
  }

  private requireUnlocked(file: string, existing: ProductProfile | null): void {
    if (existing?.lock && this.unlockedFile !== file) throw new AppError('locked', 'This profile is locked: unlock it with the engineer PIN first.');
  }

  async save(file: string, draft: ProfileDraft): Promise<ProfileListEntry> {
    if (Object.hasOwn(draft as object, 'lock')) throw new AppError('invalid-argument', 'The PIN lock is set with "Set PIN", not inside the profile.');
    const existing = await this.folder.existing(file);
    this.requireUnlocked(file, existing);
    const profile = validateProfile({ ...draft, ...(existing?.lock ? { lock: existing.lock } : {}) }, file);
    checkProfileReferences(profile, { profilesDir: this.folder.dir, picked: this.picked, existing, source: file });
    const busy = this.host.busy();
    if (busy && file === this.activeFile) throw new AppError('busy', `${busy}: save the active profile when the line is idle.`);
    await saveProfile(this.folder.path(file), profile);
    if (file === this.activeFile) {
      const wasUnlocked = this.unlockedFile;
      await this.load(file);
      this.unlockedFile = wasUnlocked;
      this.host.changed();
    }
    return this.folder.entry(file, this.activeFile);
  }

  async setPin(file: string, pin: string | null): Promise<void> {
    const existing = await this.folder.existing(file);
    if (!existing) throw new AppError('not-found', `There is no valid profile file ${file}.`);
    this.requireUnlocked(file, existing);
    const { lock: _old, ...rest } = existing;
    const next: ProductProfile = pin === null ? rest : { ...rest, lock: { pinHash: await hashPin(pin) } };
    await saveProfile(this.folder.path(file), next);
    if (file === this.activeFile && this.loaded) {
      this.loaded = { ...this.loaded, profile: next };
      // Whoever just set the PIN stays unlocked until they lock again.
      this.unlockedFile = pin === null ? null : file;
      this.host.changed();
    }
  }

  /** Escalating lock-out after wrong PINs, kept across restarts; scrypt off the main thread (pin-guard.ts). */
  async unlock(pin: string): Promise<boolean> {
    const lock = this.loaded?.profile.lock;
    if (!lock) return true;
    if (!(await this.pinGuard.check(pin, lock.pinHash))) throw new AppError('wrong-pin', 'Wrong PIN.');
    this.unlockedFile = this.activeFile;
    this.host.changed();
    return true;
  }

  lock(): void {
    this.unlockedFile = null;
    this.host.changed();
  }

  summary(): ProductSummary | null {
    if (!this.loaded) return null;
    const p = this.loaded.profile;
    return {
      id: p.id,
      productName: p.productName,
      category: p.category,
      labelSize: labelSize(p.label.size),
      printer: { name: p.printer?.mode === 'zpl' ? `zpl://${zplAddress(p.printer)}` : (p.printer?.name ?? null), mode: p.printer?.mode ?? 'pdf' },
      locked: p.lock !== undefined,
      scanBack: p.scanBack ?? false,
    };
  }
}
