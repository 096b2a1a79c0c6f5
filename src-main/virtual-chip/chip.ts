// A virtual ESP board: reset circuit (DTR/RTS → EN/IO0), boot modes, a UART with baud tracking
// and optional byte pacing, the ROM/stub protocol engine, a NOR flash, and fault injection.
// Host-side code (serialport binding, pty bridge) attaches through `connect()`.
import { EventEmitter } from 'node:events';
import { NorFlash } from './flash-model.ts';
import { flashBootText, type FirmwareModel } from './firmware-console.ts';
import { LoaderEngine, type UnsupportedReplyStyle } from './loader.ts';
import { DATASHEET_TIMING, type ChipTiming } from './timing.ts';
import { PROFILES, type ChipProfile, type ResetCircuit, type VirtualChipKind } from './profiles.ts';
import { RegisterFile } from './registers.ts';
import { slipEncode, SlipDecoder } from './slip.ts';
import { DelayLine, Wire } from './wire.ts';
import { FaultList, type ActiveFault, type VirtualFault } from './faults.ts';
import type { ChipMode, Connection, ConnectOptions, HostListener, HostPort } from './host-port.ts';
import { ResetCircuitModel } from './reset-circuit.ts';

export type { ChipMode, ConnectOptions, HostListener, HostPort } from './host-port.ts';

export type { VirtualFault } from './faults.ts';

export type { VirtualChipKind, ResetCircuit } from './profiles.ts';

export const ROM_BAUD = 115200;
export { STRAP_SAMPLE_MS } from './reset-circuit.ts';
const DEFAULT_FLASH_SIZE = 4 * 1024 * 1024;
/** From the strap sample to the first banner byte: ROM start-up (estimate, unverified: "a few ms", spec §15). */
const BANNER_DELAY_MS = 2;
/**
 * The native USB-Serial/JTAG is a USB CDC device, not a UART: the host's baud setting is ignored
 * and data moves at USB full-speed rates (≈1.2 MB/s, expressed here as an equivalent bit rate).
 */
export const USB_CDC_EQUIVALENT_BAUD = 12_000_000;

export interface VirtualChipOptions {
  chip: VirtualChipKind;
  /** 6 bytes or "aa:bb:cc:dd:ee:ff"; default: the chip's Espressif OUI + 3 random bytes. */
  mac?: Uint8Array | string;
  /** Bytes, power of two ≥ 256 KiB; default 4 MiB. */
  flashSize?: number;
  /** esptool convention major * 100 + minor (ESP32 300 = v3.0, S3 2 = v0.2, C3 4 = v0.4 are the defaults). */
  revision?: number;
  /** Deliver bytes at the line rate (10 bits/byte). Default true. */
  pacing?: boolean;
  /** Power up in ROM download mode (for a pty, which has no DTR/RTS). Default false: boots firmware. */
  startInDownloadMode?: boolean;
  /** Reset wiring; default uart-bridge (CP210x) for ESP32, usb-jtag for S3/C3. */
  circuit?: ResetCircuit;
  /** Multiplier for chip-side processing times (erase, program, MD5, stub start). Default 1 with pacing, 0 without. */
  timingScale?: number;
  timing?: Partial<ChipTiming>;
  /**
   * Extra delay before the chip's bytes reach the host, like a USB bridge (spec §15: ~1 ms per
   * transfer for CP210x / CH340; FTDI's default latency timer is up to 16 ms). Default 1 ms with
   * pacing, 0 without.
   */
  usbLatencyMs?: number;
  /** The flasher stub re-programs the UART to 115200 when it starts (see LoaderEngineOptions). Default false. */
  stubRestoresRomBaud?: boolean;
  /** Opcode style of the ROM's "unsupported command" reply (spec §3.4). Default 'previous-opcode'. */
  unsupportedReply?: UnsupportedReplyStyle;
  /**
   * Firmware already on the module (pre-flashed), whatever the virtual flash holds: what it prints
   * when it boots (firmware-console.ts). Default: read from the flash (the app image's descriptor).
   */
  firmware?: FirmwareModel;
}

function parseMac(mac: Uint8Array | string): Uint8Array {
  if (typeof mac !== 'string') {
    if (mac.length !== 6) throw new RangeError('MAC must be 6 bytes');
    return new Uint8Array(mac);
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`invalid MAC "${mac}" (expected XX:XX:XX:XX:XX:XX)`);
  }
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export class VirtualChip extends EventEmitter {
  readonly options: Readonly<Required<Pick<VirtualChipOptions, 'chip' | 'flashSize' | 'revision' | 'pacing' | 'startInDownloadMode' | 'circuit' | 'timingScale' | 'usbLatencyMs' | 'unsupportedReply'>>> & { mac: string };
  readonly profile: ChipProfile;
  readonly mac: Uint8Array;
  /** Flash contents (erased = 0xFF). Live view: inspect or preload freely. */
  readonly flash: Uint8Array;

  private readonly nor: NorFlash;
  private readonly regs: RegisterFile;
  private readonly engine: LoaderEngine;
  private readonly slip = new SlipDecoder();
  private readonly toChip: Wire;
  private readonly toHost: Wire;
  private readonly usbLatency = new DelayLine();
  /** Pre-flashed firmware (see VirtualChipOptions.firmware); undefined: what the flash holds runs. Settable: swap it. */
  firmware: FirmwareModel | undefined;

  private _mode: ChipMode = 'off';
  private _uartBaud = ROM_BAUD;
  /** ROM autobaud: follows the host's rate until a CHANGE_BAUDRATE fixes it. */
  private autobaud = false;
  private readonly circuit: ResetCircuitModel;
  private connection: Connection | null = null;
  private readonly faults = new FaultList();
  private stalledFrom: ChipMode = 'download';

  /** Counters for inspection. */
  bytesFromHost = 0;
  bytesToHost = 0;
  /** Bytes dropped because host and chip rates differed. */
  bytesGarbled = 0;
  resetCount = 0;
  bootCount = 0;

  constructor(options: VirtualChipOptions) {
    super();
    const profile = PROFILES[options.chip];
    if (!profile) throw new RangeError(`unknown chip "${String(options.chip)}"`);
    this.profile = profile;
    const flashSize = options.flashSize ?? DEFAULT_FLASH_SIZE;
    if (flashSize < 0x40000 || flashSize > 0x8000000 || (flashSize & (flashSize - 1)) !== 0) {
      throw new RangeError(`flash size must be a power of two between 256 KiB and 128 MiB, got ${flashSize}`);
    }
    const mac = options.mac !== undefined ? parseMac(options.mac) : this.randomMac();
    this.mac = mac;
    const pacing = options.pacing ?? true;
    const revision = options.revision ?? profile.defaultRevision;
    this.options = {
      chip: options.chip,
      mac: formatMac(mac),
      flashSize,
      revision,
      pacing,
      startInDownloadMode: options.startInDownloadMode ?? false,
      circuit: options.circuit ?? profile.defaultCircuit,
      timingScale: options.timingScale ?? (pacing ? 1 : 0),
      usbLatencyMs: options.usbLatencyMs ?? (pacing ? 1 : 0),
      unsupportedReply: options.unsupportedReply ?? 'previous-opcode',
    };
    this.firmware = options.firmware;
    this.nor = new NorFlash(flashSize);
    this.flash = this.nor.bytes;
    this.regs = new RegisterFile(profile, profile.efuses(mac, revision), {
      uartBaud: () => this.effectiveUartBaud(),
      flashId: () => this.nor.jedecId(),
    });
    this.engine = new LoaderEngine(
      profile,
      this.nor,
      this.regs,
      {
        frame: (payload) => this.transmit(slipEncode(payload)),
        busy: (ms) => this.toHost.delay(ms),
        afterSent: (fn) => this.toHost.then(fn),
        setUartBaud: (baud) => {
          this._uartBaud = baud;
          this.autobaud = false;
        },
        bootFirmware: () => this.startFirmware(false),
        crash: () => this.setMode('crashed'),
      },
      {
        timing: { ...DATASHEET_TIMING, ...options.timing },
        timingScale: this.options.timingScale,
        unsupportedReply: this.options.unsupportedReply,
        hooks: { transformWrite: (offset, data) => this.applyCorruptFault(offset, data) },
        stubRestoresRomBaud: options.stubRestoresRomBaud ?? false,
      },
    );
    const lineRate = this.options.circuit === 'usb-jtag' ? () => USB_CDC_EQUIVALENT_BAUD : undefined;
    this.toChip = new Wire({ paced: pacing, lineRate, deliver: (bytes, baud) => this.receiveFromHost(bytes, baud) });
    this.toHost = new Wire({ paced: pacing, lineRate, deliver: (bytes, baud) => this.deliverToHost(bytes, baud) });
    const chip = this;
    this.circuit = new ResetCircuitModel(this.options.circuit, {
      get mode() {
        return chip._mode;
      },
      holdReset: () => this.holdReset(),
      boot: (download) => this.boot(download),
    });
    this.powerOn();
  }

  // ---------------------------------------------------------------- inspection

  get mode(): ChipMode {
    return this._mode;
  }
  /** True while the loader speaks stub semantics. */
  get stubRunning(): boolean {
    return this._mode === 'download' && this.engine.semantics === 'stub';
  }
  /** The chip UART's current rate. */
  get baud(): number {
    return this.effectiveUartBaud();
  }
  get hostBaud(): number | null {
    return this.connection?.baud ?? null;
  }
  get connected(): boolean {
    return this.connection !== null;
  }
  get signals(): { dtr: boolean; rts: boolean } {
    return { ...this.circuit.lines };
  }
  get stubImage(): { entry: number; textStart: number; textLength: number } | null {
    return this.engine.stubImage;
  }
  get commandCounts(): ReadonlyMap<number, number> {
    return this.engine.commandCounts;
  }
  get activeFaults(): VirtualFault[] {
    return this.faults.active;
  }
  get pacing(): boolean {
    return this.toHost.paced;
  }
  set pacing(on: boolean) {
    this.toHost.paced = on;
    this.toChip.paced = on;
  }

  /** Reads a register as a host would see it (for tests). */
  readRegister(addr: number): number {
    return this.regs.read(addr);
  }

  // ---------------------------------------------------------------- faults

  injectFault(fault: VirtualFault): void {
    const now = this.faults.add(fault);
    if (now) this.trigger(now);
  }

  clearFaults(): void {
    this.faults.clear();
    if (this._mode === 'stalled') this.setMode(this.stalledFrom);
  }

  private trigger(f: ActiveFault): void {
    if (!this.faults.take(f)) return;
    if (f.fault.kind === 'unplug') {
      this.unplug(new Error('device disconnected (virtual unplug)'));
    } else if (f.fault.kind === 'stall') {
      this.toHost.clear();
      if (this._mode !== 'off' && this._mode !== 'reset' && this._mode !== 'stalled') {
        this.stalledFrom = this._mode;
        this.setMode('stalled');
      }
    }
    this.emit('fault', f.fault);
  }

  private applyCorruptFault(offset: number, data: Uint8Array): Uint8Array {
    const hit = this.faults.corrupt(offset, data);
    if (hit.at !== undefined) this.emit('fault', { kind: 'corrupt-write', offset: hit.at });
    return hit.data;
  }

  // ---------------------------------------------------------------- power, reset, boot

  /** USB cable in: the board powers up with both lines released. */
  powerOn(): void {
    if (this._mode !== 'off') return;
    this.circuit.powerOff();
    this.boot(this.options.startInDownloadMode);
  }

  /** USB cable out: an open port errors as a real unplug does, the chip loses power. */
  unplug(err: Error = new Error('device disconnected')): void {
    const conn = this.connection;
    this.connection = null;
    this.circuit.cancelStrap();
    this.toChip.clear();
    this.toHost.clear();
    this.setMode('off');
    conn?.listener.disconnected(err);
    this.emit('unplug', err);
  }

  private setMode(mode: ChipMode): void {
    if (this._mode === mode) return;
    this._mode = mode;
    this.emit('mode', mode);
  }

  private holdReset(): void {
    this.circuit.cancelStrap();
    this.resetCount++;
    this.toHost.clear();
    this.toChip.clear();
    this.engine.reset();
    this.regs.reset();
    this.slip.reset();
    this.setMode('reset');
  }

  private boot(download: boolean): void {
    if (download && this.faults.has('no-download-mode')) download = false;
    this.bootCount++;
    this.engine.reset();
    this.regs.reset();
    this.slip.reset();
    this._uartBaud = ROM_BAUD;
    this.autobaud = download;
    this.setMode(download ? 'download' : 'firmware');
    this.toHost.delay(BANNER_DELAY_MS * this.options.timingScale);
    this.toHost.send(new TextEncoder().encode(this.profile.banner(download)), ROM_BAUD);
    if (!download) this.startFirmware(true);
    this.emit('boot', this._mode);
  }

  private startFirmware(afterRomBanner: boolean): void {
    if (!afterRomBanner) {
      this.engine.reset();
      this._uartBaud = ROM_BAUD;
      this.autobaud = false;
      this.setMode('firmware');
    }
    const text = flashBootText({ profile: this.profile, flash: this.flash, revision: this.options.revision, mac: this.mac, firmware: this.firmware });
    if (text) this.toHost.send(new TextEncoder().encode(text), ROM_BAUD);
    this.emit('firmware-started');
  }

  // ---------------------------------------------------------------- UART

  /** Over USB-Serial/JTAG rates never mismatch: there is no UART between host and chip. */
  private get usbCdc(): boolean {
    return this.options.circuit === 'usb-jtag';
  }

  private effectiveUartBaud(): number {
    if (this.autobaud && this.connection && !this.connection.followChipBaud) return this.connection.baud;
    return this._uartBaud;
  }

  private transmit(bytes: Uint8Array): void {
    this.toHost.send(bytes, this.effectiveUartBaud());
  }

  private receiveFromHost(bytes: Uint8Array, baud: number): void {
    if (this._mode === 'off') return;
    const { allowed, due } = this.faults.spend(bytes.length);
    this.processFromHost(bytes.subarray(0, allowed), baud);
    for (const f of due) this.trigger(f);
  }

  private processFromHost(bytes: Uint8Array, baud: number): void {
    this.bytesFromHost += bytes.length;
    if (bytes.length === 0 || this._mode !== 'download') return;
    if (this.autobaud) this._uartBaud = baud;
    else if (baud !== this._uartBaud && !this.usbCdc && !this.connection?.followChipBaud) {
      this.bytesGarbled += bytes.length; // framing errors on the chip side
      return;
    }
    for (const frame of this.slip.push(bytes)) {
      if (this._mode !== 'download') break;
      this.engine.handleFrame(frame);
    }
  }

  private deliverToHost(bytes: Uint8Array, baud: number): void {
    if (this._mode === 'stalled' || this._mode === 'off') return;
    const { allowed, due } = this.faults.spend(bytes.length);
    this.passToHost(bytes.subarray(0, allowed), baud);
    for (const f of due) this.trigger(f);
  }

  private passToHost(bytes: Uint8Array, baud: number): void {
    const conn = this.connection;
    if (!conn || bytes.length === 0) return;
    if (conn.baud !== baud && !this.usbCdc && !conn.followChipBaud) {
      this.bytesGarbled += bytes.length;
      return;
    }
    this.bytesToHost += bytes.length;
    const latency = this.options.usbLatencyMs;
    if (latency > 0) {
      const copy = bytes.slice();
      this.usbLatency.push(latency, () => {
        if (this.connection === conn) conn.listener.data(copy);
      });
    } else conn.listener.data(bytes.slice());
  }

  // ---------------------------------------------------------------- host attachment

  /** Opens the chip's serial port. Like a tty open on Linux, this asserts DTR and RTS (no reset). */
  connect(listener: HostListener, baud: number, options: ConnectOptions = {}): HostPort {
    if (this._mode === 'off') throw new Error('device not present');
    if (this.connection) throw new Error('port is already open (locked)');
    const chip = this;
    const conn: Connection = {
      listener,
      baud,
      followChipBaud: options.followChipBaud ?? false,
      port: {
        get baud() {
          return conn.followChipBaud ? chip.effectiveUartBaud() : conn.baud;
        },
        write(bytes) {
          if (chip.connection !== conn) throw new Error('port is not open');
          chip.toChip.send(bytes.slice(), conn.followChipBaud ? chip.effectiveUartBaud() : conn.baud);
        },
        setSignals(lines) {
          if (chip.connection !== conn) throw new Error('port is not open');
          chip.circuit.apply({ dtr: lines.dtr ?? chip.circuit.lines.dtr, rts: lines.rts ?? chip.circuit.lines.rts });
        },
        setBaud(b) {
          if (!Number.isInteger(b) || b <= 0) throw new RangeError(`invalid baud rate ${b}`);
          conn.baud = b;
        },
        discardOutput() {
          chip.toChip.clear();
        },
        drain() {
          return chip.toChip.whenIdle();
        },
        close() {
          if (chip.connection !== conn) return;
          chip.connection = null;
          chip.circuit.apply({ dtr: false, rts: false });
        },
      },
    };
    this.connection = conn;
    this.circuit.apply({ dtr: true, rts: true });
    return conn.port;
  }

  private randomMac(): Uint8Array {
    const mac = new Uint8Array(6);
    mac.set(this.profile.oui);
    crypto.getRandomValues(mac.subarray(3));
    return mac;
  }
}
