// One connection to a chip: open the port, reset it into the ROM loader (or not: `before:
// 'no-reset'`, or a serial device without modem lines), sync, identify it, raise the baud rate in
// the ROM before anything large is sent; later, on request, upload the flasher stub; reset it into
// its firmware; always close. The stub is not uploaded here: writePlan decides per job whether it
// pays for itself (write-strategy.ts).
//
// Every step is raced against what the protocol code cannot see on its own: the caller's
// AbortSignal, the port disappearing (unplug) and a chip that stopped answering (stall watchdog).
// The losing step is left to fail on its own; its transport is killed so it gives up quickly and
// never touches the port again.
import { TextDecoder } from 'node:util';
import { ESPError } from 'esptool-js';
import { NodeSerialDevice, lookupUsbInfo } from './transport.ts';
import { createPortOpener, type PortOpener } from './open-port.ts';
import { FlashError, flashErrorMessage, toFlashError, type FlashErrorCode } from './errors.ts';
import { normalizeChipName, type ChipName } from './chips.ts';
import { classifyUsbBridge } from './usb-ids.ts';
import { StationTransport } from './link.ts';
import { prefetchChipSupport, StationLoader } from './station-loader.ts';
import { IO0_HOLD_MS, resetCircuitFor, resetIntoDownload, resetIntoFirmware } from './reset.ts';

export const DEFAULT_BAUD = 921_600;
export const ROM_BAUD = 115_200;
/** Wait for each SYNC answer, per try after a reset (esptool: 5 tries of 100 ms). A healthy chip answers in ~15 ms at 115200. */
const SYNC_TIMEOUTS_MS = [100, 100, 200, 400, 800];

export type FlashStage = 'open' | 'connect' | 'identify' | 'stub' | 'baud' | 'write' | 'verify' | 'readback' | 'reset' | 'done';

export interface FlashProgress {
  stage: FlashStage;
  /** Region being written / verified. */
  region?: string;
  /** Bytes of the current step (for writes: compressed bytes sent). */
  bytes: number;
  bytesTotal: number;
  /** Whole run, 0..100. */
  percent: number;
  message?: string;
}

export interface ConnectOptions {
  /** Creates the (unopened) port; default: native serialport (virtual chips come in this way: virtual-chip/port-opener.ts). */
  openPort?: PortOpener;
  /** Baud rate for everything after the sync (default 921600). */
  baud?: number;
  /** Rate the ROM is synced at (default 115200). */
  romBaud?: number;
  /** Reset + sync attempts (default 7). */
  connectAttempts?: number;
  /** No answer for this long while one is expected → 'timeout' (default 5000 ms). */
  stallTimeoutMs?: number;
  /**
   * 'no-reset': leave DTR/RTS alone (boards without auto-reset wiring, already held in download
   * mode). A serial device without modem lines (a pty) is always used this way.
   */
  before?: 'default-reset' | 'no-reset';
  signal?: AbortSignal;
  onProgress?: (event: FlashProgress) => void;
  /** Log lines (esptool-js's and the session's). */
  onLog?: (line: string) => void;
}

export interface DeviceInfo {
  port: string;
  /** The chip table's id (shared/chips.ts); other chips: esptool's name, lower case. */
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
  /** False when the port has no DTR/RTS (a pty, some adapters): the chip cannot be reset from here. */
  modemLines?: boolean;
}

export class FlashSession {
  info!: DeviceInfo;
  readonly loader: StationLoader;
  /** Things worth telling the operator that did not stop the run. */
  readonly warnings: string[] = [];
  readonly log: string[] = [];
  private readonly transport: StationTransport;
  private failure: Promise<never>;
  private fail!: (err: FlashError) => void;
  private failed: FlashError | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private watchdogArmed = false;
  private silenceAllowedMs = 0;
  private modemLines = false;
  private closed = false;
  private readonly onAbort = () => this.abort('cancelled');

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
    this.loader = new StationLoader({
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

  /** Opens the port and brings the chip to "ROM loader (or a running stub) at the target baud", identified. */
  static async connect(path: string, options: ConnectOptions = {}): Promise<FlashSession> {
    if (options.signal?.aborted) throw cancelled(path, 'open');
    const opener = options.openPort ?? createPortOpener();
    const romBaud = options.romBaud ?? ROM_BAUD;
    let session: FlashSession;
    try {
      const port = await opener(path, romBaud);
      const usb = await lookupUsbInfo(port.settings.binding, path);
      session = new FlashSession(path, new NodeSerialDevice(port, usb), options);
      await session.transport.connect(romBaud);
      void session.transport.readLoop();
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

  /** True when the stub runs (uploaded by `useStub`, or found running at connect). */
  get stubRunning(): boolean {
    return this.loader.IS_STUB;
  }

  private progress(stage: FlashStage, message?: string): void {
    this.options.onProgress?.({ stage, bytes: 0, bytesTotal: 0, percent: 0, message });
  }

  private abort(code: FlashErrorCode, detail?: string): void {
    this.fail(new FlashError(code, flashErrorMessage(code, this.path, detail), { stage: 'abort' }));
  }

  /** Runs one protocol step, turning every way it can end into a FlashError. */
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
    else if (!this.modemLines && this.options.before !== 'no-reset') detail = 'the serial device has no DTR/RTS lines, so the chip could not be reset into download mode; put it there by hand';
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
        if (this.watchdogArmed && since !== null && Date.now() - since > limit + this.silenceAllowedMs) {
          this.abort('timeout', `no answer for ${(limit / 1000).toFixed(1)} s`);
        }
      }, Math.max(20, Math.min(250, limit / 4)));
    }
  }

  /** Runs `step` while the chip may legitimately stay silent `ms` longer (e.g. the ROM erasing before it answers). */
  async allowSilence<T>(ms: number, step: () => Promise<T>): Promise<T> {
    this.silenceAllowedMs = ms;
    try {
      return await step();
    } finally {
      this.silenceAllowedMs = 0;
    }
  }

  private async identify(): Promise<void> {
    const loader = this.loader;
    this.progress('connect', `connecting to ${this.path}`);
    prefetchChipSupport(); // while the chip resets
    const found = await this.guard('connect', () => this.connectLoader());
    loader.IS_STUB = found === 'stub';
    if (loader.IS_STUB) loader.info('Stub is already running.');
    this.armWatchdog(true);
    this.progress('identify');
    await this.guard('identify', () => loader.detect());
    const chip = loader.chip;
    const facts = await loader.withRegisterCache(async () => {
      await this.raiseBaud();
      return {
        description: await this.guard('identify', () => chip.getChipDescription(loader)),
        features: await this.guard('identify', () => chip.getChipFeatures(loader)),
        crystalMHz: await this.guard('identify', () => chip.getCrystalFreq(loader)),
        mac: (await this.guard('identify', () => chip.readMac(loader))).toLowerCase(),
      };
    });
    if (chip.postConnect) await this.guard('identify', () => chip.postConnect!(loader));
    await this.guard('identify', () => loader.attachFlash());
    const flashId = await this.guard('identify', () => loader.readFlashIdQuick());
    const sizeName = loader.DETECTED_FLASH_SIZES[(flashId >> 16) & 0xff];
    const flashSize = sizeName ? Math.max(0, loader.flashSizeBytes(sizeName as Parameters<StationLoader['flashSizeBytes']>[0])) : 0;
    if (flashSize > 0) await this.guard('identify', () => loader.setFlashSize(flashSize));
    this.info = {
      port: this.path,
      chip: loader.chipName ?? normalizeChipName(chip.CHIP_NAME) ?? chip.CHIP_NAME.toLowerCase(),
      chipName: chip.CHIP_NAME,
      ...facts,
      flashId,
      flashSize,
      baud: this.transport.baudrate,
      usb: this.usbDescription(),
      modemLines: this.modemLines,
    };
    this.armWatchdog(false);
  }

  /** Reset (if possible) and SYNC until the ROM or a running stub answers. */
  private async connectLoader(): Promise<'rom' | 'stub'> {
    const wantReset = this.options.before !== 'no-reset';
    this.modemLines = await this.device.hasModemLines();
    if (wantReset && !this.modemLines) {
      this.warnings.push(`${this.path} has no DTR/RTS lines: the chip was not reset and must already be in download mode`);
    }
    const reset = wantReset && this.modemLines;
    const circuit = resetCircuitFor(this.device.getInfo());
    // Without a reset nothing changes between attempts but time (the operator pressing BOOT).
    const attempts = this.options.connectAttempts ?? (reset ? 7 : 3);
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (reset) {
        const seen = await resetIntoDownload(this.device, circuit, IO0_HOLD_MS[attempt % 2], this.options.signal);
        if (seen === 'firmware') continue; // the strap was missed: reset again, holding IO0 longer
      }
      for (const timeout of SYNC_TIMEOUTS_MS) {
        if (this.options.signal?.aborted) throw cancelled(this.path, 'connect');
        try {
          await this.loader.syncOnce(timeout);
          return this.loader.syncFoundStub ? 'stub' : 'rom';
        } catch (err) {
          if (!(err instanceof ESPError)) throw err;
        }
      }
    }
    throw new ESPError('Failed to connect with the device');
  }

  /**
   * CHANGE_BAUDRATE before anything large; if the chip does not follow, start over at the ROM rate.
   * Unanswered probes and a reconnect are expected here, so the stall watchdog waits meanwhile.
   */
  private async raiseBaud(): Promise<void> {
    const target = this.options.baud ?? DEFAULT_BAUD;
    if (target === this.transport.baudrate) return;
    this.progress('baud', `changing baud rate to ${target}`);
    this.armWatchdog(false);
    try {
      await this.changeBaudOrFallBack(target);
    } finally {
      this.armWatchdog(true);
    }
  }

  private async changeBaudOrFallBack(target: number): Promise<void> {
    if (await this.guard('baud', () => this.loader.changeBaudRate(target))) return;
    const romBaud = this.options.romBaud ?? ROM_BAUD;
    if (!this.modemLines || this.options.before === 'no-reset') {
      throw new FlashError('protocol', flashErrorMessage('protocol', this.path, `no answer at ${target} baud`), { stage: 'baud' });
    }
    this.warnings.push(`the chip did not answer at ${target} baud; continued at ${romBaud} baud`);
    await this.guard('baud', () => this.transport.changeBaudrate(romBaud));
    this.loader.IS_STUB = (await this.guard('connect', () => this.connectLoader())) === 'stub';
  }

  /** Uploads the flasher stub at the current rate (no-op when it already runs). */
  async useStub(): Promise<void> {
    if (this.loader.IS_STUB) return;
    this.progress('stub', 'starting the flasher stub');
    const armed = this.watchdogArmed;
    this.armWatchdog(true);
    try {
      await this.guard('stub', () => this.loader.uploadStub());
      if (this.info.flashSize > 0) await this.guard('stub', () => this.loader.setFlashSize(this.info.flashSize));
      this.info.baud = this.transport.baudrate;
    } finally {
      this.armWatchdog(armed);
    }
  }

  private usbDescription(): DeviceInfo['usb'] {
    const { usbVendorId: vid, usbProductId: pid } = this.device.getInfo();
    if (vid === undefined || pid === undefined) return undefined;
    return { vendorId: vid.toString(16).padStart(4, '0'), productId: pid.toString(16).padStart(4, '0'), bridge: classifyUsbBridge(vid, pid)?.description };
  }

  /** Resets the chip so it boots the new firmware (EN pulse with IO0 high). Throws without modem lines. */
  async hardReset(): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.modemLines) {
      throw new FlashError('protocol', `${this.path} has no DTR/RTS lines: reset the chip by hand to run the new firmware`, { stage: 'reset' });
    }
    await resetIntoFirmware(this.device);
  }

  /**
   * Boots the chip into its firmware with the host listening at the firmware console's rate:
   * `onText` gets everything it prints from the reset on (the boot check reads it). Without modem
   * lines the chip is not reset (`reset: false`: someone presses RESET). Stop listening with `stop`.
   */
  async startFirmware(consoleBaud: number, onText: (text: string) => void): Promise<{ reset: boolean; stop: () => void }> {
    if (this.failed) throw this.failed;
    if (this.transport.baudrate !== consoleBaud) await this.transport.changeBaudrate(consoleBaud);
    const decoder = new TextDecoder('utf-8');
    const stop = this.device.subscribe((bytes) => onText(decoder.decode(bytes, { stream: true })));
    if (!this.modemLines) return { reset: false, stop };
    try {
      await resetIntoFirmware(this.device);
    } catch (err) {
      stop();
      throw toFlashError(err, { port: this.path, stage: 'reset' });
    }
    return { reset: true, stop };
  }

  /** Resolves never; rejects with the FlashError that ended the session (unplug, cancel). */
  whenFailed(): Promise<never> {
    return this.failure;
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
