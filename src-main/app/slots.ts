// Bench slots: the number (and optional name) the operator sees for each physical port, stable
// across re-plugs. A port is known by its USB location when the system gives one (the hub port
// does not change when a board is swapped or ttyUSB numbers shift), else by its device path.
// New ports get the lowest free number; the engineer renames and renumbers them in Settings.
// Real slots are kept in `slots.json` in the data folder; virtual (demo) slots live for the session.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlotConfig } from '../../shared/ipc.ts';
import { writeFileAtomic } from '../fs/index.ts';

export const SLOTS_FILE = 'slots.json';
export const MAX_SLOT = 99;

/** The key of a port's slot: its physical USB location, else its path. */
export function slotKey(port: { path: string; location?: string }): string {
  return port.location ? `usb:${port.location}` : `path:${port.path}`;
}

export class SlotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlotError';
  }
}

export class SlotTable {
  private readonly slots = new Map<string, SlotConfig>();
  private readonly transient = new Set<string>();
  /** Saves run one after the other; a new port is numbered at once and written behind. */
  private saving: Promise<void> = Promise.resolve();
  /** Why the last save failed (shown to the engineer), or null. */
  lastSaveError: string | null = null;

  private constructor(private readonly file: string) {}

  /** Loads `slots.json` (a damaged file starts an empty table: slots are renumbered, nothing else is lost). */
  static load(dataDir: string): SlotTable {
    const table = new SlotTable(join(dataDir, SLOTS_FILE));
    if (!existsSync(table.file)) return table;
    try {
      const raw = JSON.parse(readFileSync(table.file, 'utf8')) as unknown;
      for (const s of Array.isArray(raw) ? raw : []) {
        const c = s as Partial<SlotConfig>;
        if (typeof c.key !== 'string' || !Number.isInteger(c.slot) || c.slot! < 1 || c.slot! > MAX_SLOT) continue;
        if ([...table.slots.values()].some((o) => o.slot === c.slot)) continue;
        table.slots.set(c.key, { key: c.key, slot: c.slot!, name: typeof c.name === 'string' && c.name ? c.name.slice(0, 24) : null });
      }
    } catch {
      // keep the empty table
    }
    return table;
  }

  /** All slots, by number. */
  list(): SlotConfig[] {
    return [...this.slots.values()].sort((a, b) => a.slot - b.slot);
  }

  get(key: string): SlotConfig | undefined {
    return this.slots.get(key);
  }

  isTransient(key: string): boolean {
    return this.transient.has(key);
  }

  /**
   * The port's slot, numbering it now if it is new (synchronously: a board shows in its slot in
   * the same poll that found it); the table is written to disk behind. Virtual ports are not written.
   * Beyond 99 slots a port has none (null) until the engineer forgets unused ones.
   */
  slotFor(key: string, opts: { transient?: boolean } = {}): SlotConfig | null {
    const known = this.slots.get(key);
    if (known) return known;
    const used = new Set([...this.slots.values()].map((s) => s.slot));
    let n = 1;
    while (used.has(n)) n++;
    if (n > MAX_SLOT) return null;
    const slot: SlotConfig = { key, slot: n, name: null };
    this.slots.set(key, slot);
    if (opts.transient) this.transient.add(key);
    else void this.save().catch(() => undefined);
    return slot;
  }

  /** Resolves once every save asked for so far is on disk (or failed: see lastSaveError). */
  flush(): Promise<void> {
    return this.saving;
  }

  /** The engineer's numbering and names (every key must exist; numbers unique, 1–99). */
  async update(next: readonly SlotConfig[]): Promise<void> {
    const numbers = new Set<number>();
    for (const s of next) {
      if (!this.slots.has(s.key)) throw new SlotError(`Unknown slot ${s.key}.`);
      if (numbers.has(s.slot)) throw new SlotError(`Slot number ${s.slot} is used twice.`);
      numbers.add(s.slot);
    }
    const untouched = [...this.slots.values()].filter((s) => !next.some((n) => n.key === s.key));
    const clash = untouched.find((s) => numbers.has(s.slot));
    if (clash) throw new SlotError(`Slot number ${clash.slot} is already taken by another port.`);
    for (const s of next) this.slots.set(s.key, { key: s.key, slot: s.slot, name: s.name?.trim() ? s.name.trim().slice(0, 24) : null });
    await this.save();
  }

  /** Drops a slot (a port no longer on the bench); its number becomes free. */
  async forget(key: string): Promise<void> {
    if (!this.slots.delete(key)) throw new SlotError(`Unknown slot ${key}.`);
    this.transient.delete(key);
    await this.save();
  }

  private save(): Promise<void> {
    const next = this.saving.then(async () => {
      const persistent = this.list().filter((s) => !this.transient.has(s.key));
      try {
        await writeFileAtomic(this.file, `${JSON.stringify(persistent, null, 2)}\n`, 0o600);
        this.lastSaveError = null;
      } catch (err) {
        this.lastSaveError = `${SLOTS_FILE}: ${err instanceof Error ? err.message : String(err)}`;
        throw err;
      }
    });
    this.saving = next.catch(() => undefined);
    return next;
  }
}
