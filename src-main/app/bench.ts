// The physical bench as the app sees it: real serial ports (polled by the port watcher), demo
// virtual chips, and the slot each port sits in (slots.ts). It reports boards arriving and leaving
// to its owner (which tells the Station) and builds the operator's tiles: every known slot, by
// number, with the Station's model of whatever port is in it.
import type { DemoChipKind, DemoFault, SlotConfig, SlotTile } from '../../shared/ipc.ts';
import { emptyPortState, type BoardInfo, type PortState } from '../../shared/station/port-state.ts';
import { listPorts, PortWatcher, type ListingBinding, type PortDescription } from '../flash/index.ts';
import { VirtualChipRegistry, type VirtualChip } from '../virtual-chip/index.ts';
import { AppError } from './errors.ts';
import { slotKey, SlotTable } from './slots.ts';
import { DEMO_PRODUCT_NAME } from '../station/profile-file.ts';

export interface BenchOptions {
  dataDir: string;
  /** Binding used to list real serial ports (tests pass one whose list changes). */
  portBinding?: ListingBinding;
  /** Device path → physical USB location (tests); default Linux by-path links. */
  portLocations?: () => ReadonlyMap<string, string>;
  /** Offer virtual chips (the app's demo mode). */
  demo: boolean;
  /** Virtual chips at line speed (realistic demo) or instant (tests). */
  demoPacing: boolean;
  /** Boards arriving and leaving, after the tiles already show the change. */
  onChange: (change: 'attached' | 'detached', path: string, board: BoardInfo | null) => void;
}

/** The firmware demo boards come with (pre-flashed): it reads its factory NVS and prints it (the demo profile's boot check). */
const DEMO_FIRMWARE = { kind: 'homekit', name: DEMO_PRODUCT_NAME, version: '1.0' } as const;
const MAX_DEMO_CHIPS = 8;

/** What a USB descriptor tells of the board: Espressif's native USB reports the chip's MAC as its serial number. */
export function boardFromUsb(p: PortDescription): BoardInfo | null {
  const serial = p.serialNumber ?? '';
  if (p.bridge?.kind === 'usb-serial-jtag' && /^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/.test(serial)) return { chip: null, mac: serial.toLowerCase() };
  return null;
}

export class Bench {
  readonly registry = new VirtualChipRegistry();
  readonly slots: SlotTable;
  private real = new Map<string, PortDescription>();
  private readonly demoChips = new Map<string, VirtualChip>();
  private demoCounter = 0;
  /** Where each slot's board was last seen this session (to act on it and to show it when gone). */
  private readonly lastPath = new Map<string, { path: string; virtual: boolean; description: string }>();
  private watcher: PortWatcher | null = null;
  demo: boolean;

  constructor(private readonly options: BenchOptions) {
    this.slots = SlotTable.load(options.dataDir);
    this.demo = options.demo;
  }

  /** Lists the real ports once, and (watch) keeps polling them every `pollMs`. */
  async start(watch: boolean, pollMs = 1000): Promise<void> {
    let first: PortDescription[] = [];
    if (watch) {
      this.watcher = new PortWatcher({ binding: this.options.portBinding, espOnly: true, intervalMs: pollMs, locations: this.options.portLocations });
      this.watcher.on('attach', (p) => this.attachReal(p));
      this.watcher.on('detach', (p) => this.detachReal(p));
      this.watcher.on('error', () => undefined);
      first = await this.watcher.start();
    } else {
      first = await listPorts({ binding: this.options.portBinding, includeAll: false, locations: this.options.portLocations }).catch(() => []);
    }
    for (const p of first) this.attachReal(p);
  }

  /** One poll of the real ports now (tests; the timer does the same). */
  async poll(): Promise<void> {
    await this.watcher?.poll();
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    for (const path of [...this.demoChips.keys()]) this.registry.remove(path);
    await this.slots.flush();
  }

  private describe(p: PortDescription): string {
    return [p.bridge?.description ?? p.manufacturer ?? 'USB serial', p.serialNumber].filter(Boolean).join(' · ');
  }

  /** Synchronous: the board is in its slot before the poll that found it returns. */
  private attachReal(p: PortDescription): void {
    const key = slotKey(p);
    this.slots.slotFor(key);
    this.real.set(p.path, p);
    this.lastPath.set(key, { path: p.path, virtual: false, description: this.describe(p) });
    this.options.onChange('attached', p.path, boardFromUsb(p));
  }

  private detachReal(p: PortDescription): void {
    if (this.real.get(p.path) === p) this.real.delete(p.path);
    this.options.onChange('detached', p.path, null);
  }

  /** Is a board plugged in at `path` right now? */
  isPlugged(path: string): boolean {
    if (this.demoChips.has(path)) return this.registry.get(path) === this.demoChips.get(path);
    return this.real.has(path);
  }

  /** The slot key of whatever is plugged in at `path` now (undefined: nothing). */
  private keyAt(path: string): string | undefined {
    if (this.demoChips.has(path)) return this.isPlugged(path) ? slotKey({ path }) : undefined;
    const p = this.real.get(path);
    return p ? slotKey(p) : undefined;
  }

  /** Is a board plugged into the slot with this key right now? (Another slot's board may have taken its old path.) */
  isSlotPlugged(key: string): boolean {
    const last = this.lastPath.get(key);
    return last !== undefined && this.keyAt(last.path) === key;
  }

  /** The boards plugged in now, with what is known of them (to tell a new Station). */
  pluggedPorts(): { path: string; board: BoardInfo | null }[] {
    const out: { path: string; board: BoardInfo | null }[] = [...this.real.values()].map((p) => ({ path: p.path, board: boardFromUsb(p) }));
    for (const [path, chip] of this.demoChips) if (this.registry.get(path) === chip) out.push({ path, board: { chip: chip.options.chip, mac: chip.options.mac.toLowerCase() } });
    return out;
  }

  /** Slot number of the port at `path` (null when it has none). */
  slotOfPath(path: string): number | null {
    const key = this.keyAt(path);
    return key ? (this.slots.get(key)?.slot ?? null) : null;
  }

  /** Every known slot, by number, with the model of the port now in it. */
  tiles(stateOf: (path: string) => PortState): SlotTile[] {
    return this.slots.list().map((s: SlotConfig) => {
      const last = this.lastPath.get(s.key);
      const path = last?.path ?? '';
      const plugged = path !== '' && this.keyAt(path) === s.key;
      return {
        slot: s.slot,
        name: s.name ?? `Slot ${s.slot}`,
        key: s.key,
        path,
        plugged,
        virtual: last?.virtual ?? s.key.startsWith('path:virtual:'),
        description: last?.description ?? 'No board seen yet',
        state: plugged ? stateOf(path) : emptyPortState(),
      };
    });
  }

  // ------------------------------------------------------------------ demo chips

  /** Turns demo mode on, with one virtual ESP32 to start with. */
  enableDemo(): void {
    this.demo = true;
    if (this.demoChips.size === 0) this.addDemoChip('esp32');
  }

  private requireDemo(path?: string): VirtualChip | undefined {
    if (!this.demo) throw new AppError('not-demo', 'Virtual chips are only available in demo mode.');
    if (path === undefined) return undefined;
    const chip = this.demoChips.get(path);
    if (!chip) throw new AppError('not-found', `${path} is not a virtual chip.`);
    return chip;
  }

  addDemoChip(kind: DemoChipKind): string {
    this.requireDemo();
    if (this.demoChips.size >= MAX_DEMO_CHIPS) throw new AppError('invalid-argument', `At most ${MAX_DEMO_CHIPS} virtual chips at a time.`);
    const path = `virtual:${kind}-${++this.demoCounter}`;
    const chip = this.registry.create(path, { chip: kind, pacing: this.options.demoPacing, firmware: DEMO_FIRMWARE });
    this.demoChips.set(path, chip);
    const key = slotKey({ path });
    this.slots.slotFor(key, { transient: true });
    this.lastPath.set(key, { path, virtual: true, description: `Virtual ${chip.profile.name}` });
    this.options.onChange('attached', path, { chip: chip.options.chip, mac: chip.options.mac.toLowerCase() });
    return path;
  }

  demoChip(path: string): VirtualChip | undefined {
    return this.demoChips.get(path);
  }

  demoUnplug(path: string): void {
    this.requireDemo(path);
    this.registry.remove(path);
    this.options.onChange('detached', path, null);
  }

  demoReplug(path: string): void {
    const chip = this.requireDemo(path)!;
    if (this.registry.get(path) === chip) return;
    this.registry.add(path, chip);
    this.options.onChange('attached', path, { chip: chip.options.chip, mac: chip.options.mac.toLowerCase() });
  }

  /**
   * Arms a fault for the next run. Byte-triggered ones fire part-way through it (a run is ~9 kB from
   * the host); a firmware fault spoils the unit's next start-up only (a retry boots good firmware).
   */
  demoInjectFault(path: string, fault: DemoFault): void {
    const chip = this.requireDemo(path)!;
    if (fault === 'firmware-panic' || fault === 'firmware-silent') {
      chip.firmware = fault === 'firmware-panic' ? { ...DEMO_FIRMWARE, kind: 'panic' } : { kind: 'silent' };
      chip.once('firmware-started', () => (chip.firmware = DEMO_FIRMWARE));
      return;
    }
    const afterBytes = 6_000;
    chip.injectFault(fault === 'unplug' ? { kind: 'unplug', afterBytes } : fault === 'stall' ? { kind: 'stall', afterBytes } : { kind: fault });
  }
}
