// Serial port discovery: which ports exist, which of them sit behind a USB bridge that can reach an
// ESP chip's download mode, which are held by another program, and a polling watcher for
// plug / unplug. The binding is injectable so tests run against the mock or virtual binding.
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BindingInterface, PortInfo } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { SerialPort } from 'serialport';
import { classifyUsbBridge, normalizeUsbId, type UsbBridge } from './usb-ids.ts';
import { toFlashError } from './errors.ts';

/** The part of a serialport binding discovery needs (`open` only for the busy probe). */
export type ListingBinding = Pick<BindingInterface, 'list'> & Partial<Pick<BindingInterface, 'open'>>;

export interface PortDescription {
  path: string;
  /** Lower-case 4-digit hex, as serialport reports it. */
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
  /**
   * The physical USB port the device hangs off (hub path), stable across re-plugs while the
   * device path (/dev/ttyUSB0) may change: serialport's locationId (Windows, macOS), or the
   * /dev/serial/by-path name on Linux. Undefined when the system does not tell.
   */
  location?: string;
  /** Known ESP-capable USB bridge (undefined: unknown or not USB). */
  bridge?: UsbBridge;
  /** True when the bridge is one that can put an ESP chip into download mode. */
  espCapable: boolean;
  /** Only when probed: the port could not be opened because another program holds it. */
  busy?: boolean;
  /** Only when probed and the open failed for another reason. */
  probeError?: string;
}

export interface ListPortsOptions {
  /** Defaults to serialport's native binding. */
  binding?: ListingBinding;
  /** Open and close each ESP-capable port to find the busy ones (briefly raises DTR/RTS, no reset). */
  probeBusy?: boolean;
  /** Include ports without a known ESP bridge (default true). */
  includeAll?: boolean;
  /** Device path → physical location when the binding gives none (default: Linux's by-path links). */
  locations?: () => ReadonlyMap<string, string>;
}

export function describePort(info: PortInfo, locations?: ReadonlyMap<string, string>): PortDescription {
  const vendorId = normalizeUsbId(info.vendorId);
  const productId = normalizeUsbId(info.productId);
  const bridge = classifyUsbBridge(vendorId, productId);
  const d: PortDescription = { path: info.path, espCapable: bridge !== undefined };
  if (vendorId) d.vendorId = vendorId;
  if (productId) d.productId = productId;
  if (info.manufacturer) d.manufacturer = info.manufacturer;
  if (info.serialNumber) d.serialNumber = info.serialNumber;
  const location = info.locationId || locations?.get(info.path);
  if (location) d.location = location;
  if (bridge) d.bridge = bridge;
  return d;
}

/** Linux's persistent names of serial devices by physical USB path (udev's /dev/serial/by-path). */
export const LINUX_BY_PATH_DIR = '/dev/serial/by-path';

/**
 * Device path → by-path name (e.g. /dev/ttyUSB0 → pci-0000:00:14.0-usb-0:2.3:1.0-port0), read from
 * udev's symlinks. Empty when the folder does not exist (not Linux, no udev, no USB serial device).
 */
export function linuxUsbLocations(dir = LINUX_BY_PATH_DIR): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      out.set(realpathSync(join(dir, name)), name);
    } catch {
      // A link whose device vanished between the two calls.
    }
  }
  return out;
}

export function defaultBinding(): BindingInterface {
  return SerialPort.binding as unknown as BindingInterface;
}

/**
 * USB serial devices read straight from Linux's sysfs, for systems without udev's `udevadm` (which
 * serialport's own listing runs): containers, minimal installs. Same fields as serialport reports.
 */
export function linuxSysfsPorts(root = '/sys/class/tty'): PortInfo[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^tty(USB|ACM)\d+$/.test(n));
  } catch {
    return [];
  }
  const read = (dir: string, file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
  return names.sort().map((name) => {
    let usb: string | undefined;
    try {
      for (let d = realpathSync(join(root, name, 'device')); d !== dirname(d); d = dirname(d)) if (existsSync(join(d, 'idVendor'))) (usb = d), (d = '/');
    } catch {
      // a device that vanished while we looked
    }
    return {
      path: `/dev/${name}`,
      manufacturer: usb && read(usb, 'manufacturer'),
      serialNumber: usb && read(usb, 'serial'),
      pnpId: undefined,
      locationId: undefined,
      vendorId: usb && read(usb, 'idVendor'),
      productId: usb && read(usb, 'idProduct'),
    };
  });
}

/** serialport's listing, or sysfs on a Linux without udevadm (its listing would fail). */
async function listInfos(binding: ListingBinding, usingDefault: boolean): Promise<PortInfo[]> {
  try {
    return await binding.list();
  } catch (err) {
    const missingUdevadm = (err as NodeJS.ErrnoException).code === 'ENOENT' && /udevadm/.test(String((err as Error).message));
    if (usingDefault && process.platform === 'linux' && missingUdevadm) return linuxSysfsPorts();
    throw err;
  }
}

/** Lists ports, ESP-capable ones first (then by path). Never throws for a busy port. */
export async function listPorts(options: ListPortsOptions = {}): Promise<PortDescription[]> {
  const binding = options.binding ?? defaultBinding();
  const infos = await listInfos(binding, options.binding === undefined);
  const locations = infos.some((i) => !i.locationId) ? (options.locations ?? linuxUsbLocations)() : undefined;
  let ports = infos.map((i) => describePort(i, locations));
  if (options.includeAll === false) ports = ports.filter((p) => p.espCapable);
  ports.sort((a, b) => Number(b.espCapable) - Number(a.espCapable) || a.path.localeCompare(b.path));
  if (options.probeBusy && binding.open) {
    for (const p of ports) if (p.espCapable) Object.assign(p, await probePort(binding as BindingInterface, p.path));
  }
  return ports;
}

/** Tries to open (with an exclusive lock) and close a port. */
export async function probePort(binding: BindingInterface, path: string): Promise<{ busy: boolean; probeError?: string }> {
  try {
    const port = await binding.open({ path, baudRate: 115200, lock: true });
    await port.close();
    return { busy: false };
  } catch (err) {
    const fe = toFlashError(err, { port: path });
    if (fe.code === 'port-busy') return { busy: true };
    return { busy: false, probeError: err instanceof Error ? err.message : String(err) };
  }
}

/** Identity of a plugged device: a different device on the same path counts as detach + attach. */
function portKey(p: PortDescription): string {
  return [p.path, p.vendorId ?? '', p.productId ?? '', p.serialNumber ?? ''].join('|');
}

export interface PortWatcherOptions {
  binding?: ListingBinding;
  /** Poll interval, default 1000 ms. */
  intervalMs?: number;
  /** Only report ESP-capable ports (default false). */
  espOnly?: boolean;
  locations?: ListPortsOptions['locations'];
}

export interface PortWatcherEvents {
  attach: [PortDescription];
  detach: [PortDescription];
  error: [Error];
}

/**
 * Polls the port list and emits `attach` / `detach` for changes after `start()`.
 * The list (`ports`) is updated before any event of a poll is emitted, so a listener that reads
 * it sees the new board and no longer sees the one that left.
 * A failing poll emits `error` (only if someone listens) and polling goes on.
 */
export class PortWatcher extends EventEmitter<PortWatcherEvents> {
  private known = new Map<string, PortDescription>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private readonly binding: ListingBinding;
  private readonly intervalMs: number;

  constructor(private readonly options: PortWatcherOptions = {}) {
    super();
    this.binding = options.binding ?? defaultBinding();
    this.intervalMs = options.intervalMs ?? 1000;
  }

  /** Takes the first snapshot (no events for it), returns it, then polls. */
  async start(): Promise<PortDescription[]> {
    if (this.running) return [...this.known.values()];
    this.running = true;
    const first = await this.snapshot();
    this.known = new Map(first.map((p) => [portKey(p), p]));
    this.schedule();
    return first;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Ports currently known to the watcher. */
  get ports(): PortDescription[] {
    return [...this.known.values()];
  }

  /** One poll now (also used by the timer); emits the differences. */
  async poll(): Promise<void> {
    let now: PortDescription[];
    try {
      now = await this.snapshot();
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const next = new Map(now.map((p) => [portKey(p), p]));
    const before = this.known;
    this.known = next;
    for (const [key, p] of before) if (!next.has(key)) this.emit('detach', p);
    for (const [key, p] of next) if (!before.has(key)) this.emit('attach', p);
  }

  private async snapshot(): Promise<PortDescription[]> {
    return listPorts({ binding: this.options.binding, includeAll: !this.options.espOnly, locations: this.options.locations });
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      await this.poll();
      this.schedule();
    }, this.intervalMs);
  }
}
