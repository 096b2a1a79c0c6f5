// One connection to a chip through esptool-js: open the port, reset into download mode, sync,
// identify, upload the stub, raise the baud rate; then write / read / reset; always close.
//
// esptool-js calls are raced against three things it cannot see on its own: the caller's
// AbortSignal, the port disappearing (unplug) and a chip that stopped answering (stall
// watchdog). The losing esptool-js call is left to fail on its own; its transport is poisoned
// so it gives up quickly and never touches the port again.
import { ESPLoader, Transport, ESPError } from 'esptool-js';
import { NodeSerialDevice, lookupUsbInfo } from './transport.ts';
import { createPortOpener, type PortOpener } from './open-port.ts';
import { FlashError, flashErrorMessage, toFlashError, type FlashErrorCode } from './errors.ts';
import { normalizeChipName, type ChipName } from './chips.ts';
import { classifyUsbBridge } from './usb-ids.ts';

export const DEFAULT_BAUD = 921_600;
export const ROM_BAUD = 115_200;

export type FlashStage = 'open' | 'connect' | 'identify' | 'stub' | 'baud' | 'write' | 'verify' | 'readback' | 'reset' | 'done';

export interface FlashProgress {
  stage: FlashStage;
  /** Region being written / verified. */
  region?: string;
  /** Bytes of the current step (for writes: compressed bytes sent, as esptool-js counts them). */
  bytes: number;
  bytesTotal: number;
  /** Whole run, 0..100. */
  percent: number;
  message?: string;
}

export interface ConnectOptions {
  /** Creates the (unopened) port; default: native serialport (virtual chips come in this way: virtual-chip/port-opener.ts). */
  openPort?: PortOpener;
  /** Baud rate for everything after the stub is running (default 921600). */
  baud?: number;
  /** Rate the ROM is synced at (default 115200). */
  romBaud?: number;
  /** esptool-js connect attempts (reset + 5 syncs each; default 7). */
  connectAttempts?: number;
  /** No answer for this long while one is expected → 'timeout' (default 5000 ms). */
  stallTimeoutMs?: number;
  /** 'no-reset' for boards without auto-reset circuitry (already held in download mode). */
  before?: 'default-reset' | 'no-reset';
  signal?: AbortSignal;
  onProgress?: (event: FlashProgress) => void;
  /** esptool-js's log lines. */
  onLog?: (line: string) => void;
}

export interface DeviceInfo {
  port: string;
  /** 'esp32' | 'esp32s3' | 'esp32c3' (other chips: esptool's name, lower case). */
  chip: ChipName | string;
  /** esptool-js's name, e.g. 'ESP32-S3'. */
  chipName: string;
  /** e.g. 'ESP32-D0WD-V3 (revision v3.0)'. */
  description: string;
  features: string[];
  crystalMHz: number;
  /** Lower case, colon separated. */
  mac: string;
  /** JEDEC id read over SPI (manufacturer | type << 8 | capacity << 16). */
  flashId: number;
  /** Bytes; 0 when the flash chip did not answer. */
  flashSize: number;
  /** Rate in use after the baud change (lower if the chip did not follow). */
  baud: number;
  usb?: { vendorId: string; productId: string; bridge?: string };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** esptool-js Transport that logs its traces instead of printing them, and can be killed. */
class StationTransport extends Transport {
  private dead = false;
  constructor(
    device: NodeSerialDevice,
    private readonly log: (line: string) => void,
  ) {
    super(device as never, false);
  }
  override trace(message: string): void {
    this.log(`trace: ${message}`);
  }
  override async read(timeout: number): Promise<Uint8Array> {
    if (this.dead) throw new ESPError('port closed');
    return super.read(timeout);
  }
  /** Makes any pending and future read fail at once (a non-SLIP byte ends a pending read). */
  kill(): void {
    this.dead = true;
    (this as unknown as { buffer: Uint8Array }).buffer = Uint8Array.of(0);
  }
}

export class FlashSession {
  info!: DeviceInfo;
  readonly loader: ESPLoader;
  private readonly transport: StationTransport;
  private failure: Promise<never>;
  private fail!: (err: FlashError) => void;
  private failed: FlashError | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private watchdogArmed = false;
  private closed = false;
  private readonly onAbort = () => this.abort('cancelled');
  readonly log: string[] = [];

  private constructor(
    readonly path: string,
    readonly device: NodeSerialDevice,
    private readonly options: ConnectOptions,
  ) {
    const logLine = (line: string) => {
      this.log.push(line);
      if (this.log.length > 500) this.log.shift();
      options.onLog?.(line);
    };
    this.transport = new StationTransport(device, logLine);
    this.loader = new ESPLoader({
      transport: this.transport,
      baudrate: options.baud ?? DEFAULT_BAUD,
      romBaudrate: options.romBaud ?? ROM_BAUD,
      terminal: { clean() {}, writeLine: logLine, write: logLine },
    });
    this.failure = new Promise<never>((_, reject) => {
      this.fail = (err) => {
        if (this.failed) return;
        this.failed = err;
        this.transport.kill();
        reject(err);
      };
    });
    this.failure.catch(() => {}); // observed through guard(); never an unhandled rejection
    device.whenLost().catch((err) => this.fail(toFlashError(err, { port: path })));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Opens the port and brings the chip up to "stub running at the target baud", identified. */
  static async connect(path: string, options: ConnectOptions = {}): Promise<FlashSession> {
    if (options.signal?.aborted) throw cancelled(path, 'open');
    const opener = options.openPort ?? createPortOpener();
    const romBaud = options.romBaud ?? ROM_BAUD;
    let session: FlashSession;
    try {
      const port = await opener(path, romBaud);
      const usb = await lookupUsbInfo(port.settings.binding, path);
      session = new FlashSession(path, new NodeSerialDevice(port, usb), options);
    } catch (err) {
      throw toFlashError(err, { port: path, stage: 'open' });
    }
    try {
      await session.identify();
      return session;
    } catch (err) {
      await session.close();
      throw err;
    }
  }

  private progress(stage: FlashStage, message?: string): void {
    this.options.onProgress?.({ stage, bytes: 0, bytesTotal: 0, percent: 0, message });
  }

  private abort(code: FlashErrorCode, detail?: string): void {
    this.fail(new FlashError(code, flashErrorMessage(code, this.path, detail), { stage: 'abort' }));
  }

  /** Runs one esptool-js step, turning every way it can end into a FlashError. */
  async guard<T>(stage: string, step: () => Promise<T>): Promise<T> {
    if (this.failed) throw this.failed;
    if (this.options.signal?.aborted) this.abort('cancelled');
    const op = step();
    op.catch(() => {}); // if the race is lost, the step ends on its own later
    try {
      return await Promise.race([op, this.failure]);
    } catch (err) {
      let fe = this.failed ?? toFlashError(err, { port: this.path, stage });
      fe.stage ??= stage;
      if (fe.code === 'no-download-mode') fe = this.noDownloadMode(fe);
      fe.log ??= this.log.slice(-40);
      throw fe;
    }
  }

  private noDownloadMode(err: FlashError): FlashError {
    const seen = this.device.recentText();
    const boot = /boot:(0x[0-9a-fA-F]+)/.exec(seen);
    let detail: string;
    if (boot && !/waiting for download/.test(seen)) detail = `the chip booted its firmware (boot:${boot[1]}) instead of the ROM loader`;
    else if (this.device.rxBytes === 0) detail = 'nothing answered: check the cable and that the board is powered';
    else detail = 'the chip did not answer the sync';
    return new FlashError('no-download-mode', flashErrorMessage('no-download-mode', this.path, detail), { cause: err.cause ?? err, stage: err.stage });
  }

  /** Arms the stall watchdog: an answer awaited longer than stallTimeoutMs fails the session. */
  armWatchdog(armed: boolean): void {
    this.watchdogArmed = armed;
    if (armed) this.device.awaitingSince = null;
    if (armed && !this.watchdog) {
      const limit = this.options.stallTimeoutMs ?? 5000;
      this.watchdog = setInterval(() => {
        const since = this.device.awaitingSince;
        if (this.watchdogArmed && since !== null && Date.now() - since > limit) {
          this.abort('timeout', `no answer for ${(limit / 1000).toFixed(1)} s`);
        }
      }, Math.max(20, Math.min(250, limit / 4)));
    }
  }

  private async identify(): Promise<void> {
    const loader = this.loader;
    const mode = this.options.before === 'no-reset' ? 'no_reset' : 'default_reset';
    this.progress('connect', `connecting to ${this.path}`);
    await this.guard('connect', () => loader.detectChip(mode, this.options.connectAttempts ?? 7));
    this.armWatchdog(true);
    this.progress('identify');
    const chip = loader.chip;
    const description = await this.guard('identify', () => chip.getChipDescription(loader));
    const features = await this.guard('identify', () => chip.getChipFeatures(loader));
    const crystalMHz = await this.guard('identify', () => chip.getCrystalFreq(loader));
    const mac = (await this.guard('identify', () => chip.readMac(loader))).toLowerCase();
    if (chip.postConnect) await this.guard('identify', () => chip.postConnect!(loader));
    this.progress('stub');
    await this.guard('stub', () => loader.runStub());
    const target = this.options.baud ?? DEFAULT_BAUD;
    if (target !== (this.options.romBaud ?? ROM_BAUD)) {
      this.progress('baud', `changing baud rate to ${target}`);
      // esptool-js reconnects on its own if the chip does not follow; no watchdog meanwhile.
      this.armWatchdog(false);
      await this.guard('baud', () => loader.changeBaud());
      this.armWatchdog(true);
    }
    const flashId = await this.guard('identify', () => loader.readFlashId());
    const sizeName = await this.guard('identify', () => loader.detectFlashSize());
    const flashSize = sizeName ? loader.flashSizeBytes(sizeName as Parameters<ESPLoader['flashSizeBytes']>[0]) : 0;
    const vid = this.device.getInfo().usbVendorId;
    const pid = this.device.getInfo().usbProductId;
    const usb =
      vid !== undefined && pid !== undefined
        ? {
            vendorId: vid.toString(16).padStart(4, '0'),
            productId: pid.toString(16).padStart(4, '0'),
            bridge: classifyUsbBridge(vid, pid)?.description,
          }
        : undefined;
    this.info = {
      port: this.path,
      chip: normalizeChipName(chip.CHIP_NAME) ?? chip.CHIP_NAME.toLowerCase(),
      chipName: chip.CHIP_NAME,
      description,
      features,
      crystalMHz,
      mac,
      flashId,
      flashSize: Math.max(0, flashSize),
      baud: this.transport.baudrate,
      usb,
    };
    this.armWatchdog(false);
  }

  /**
   * Resets the chip so it boots the new firmware: EN low (RTS on, DTR off), then release.
   * esptool-js 0.7.0's own "hard_reset" only releases RTS and leaves the chip in the stub.
   */
  async hardReset(): Promise<void> {
    if (this.failed) throw this.failed;
    const usbJtag = this.device.getInfo().usbVendorId === 0x303a;
    await this.device.setSignals({ dataTerminalReady: false, requestToSend: true });
    await sleep(usbJtag ? 200 : 100);
    await this.device.setSignals({ dataTerminalReady: false, requestToSend: false });
  }

  /** Releases the port; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.transport.kill();
    try {
      await this.device.close();
    } catch {
      // a vanished port cannot be closed; it is released anyway
    }
  }
}

function cancelled(path: string, stage: string): FlashError {
  return new FlashError('cancelled', flashErrorMessage('cancelled', path), { stage });
}
