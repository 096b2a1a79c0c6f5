// A serialport binding (BindingInterface) over virtual chips, so
// `new SerialPort({ binding: createVirtualBinding(registry), path: 'virtual:esp32', baudRate: 115200 })`
// talks to a simulated board exactly as it would to a USB serial adapter.
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import type { HostPort } from './chip.ts';
import type { VirtualChipRegistry } from './registry.ts';

class CanceledError extends Error {
  readonly canceled = true;
}

class DisconnectedError extends Error {
  readonly code = 'EIO';
}

export type VirtualBinding = BindingInterface<VirtualPortBinding, OpenOptions, PortInfo>;

export function createVirtualBinding(registry: VirtualChipRegistry): VirtualBinding {
  return {
    async list() {
      return registry.list().map(({ chip: _chip, ...info }) => info);
    },
    async open(options: OpenOptions) {
      if (!options || typeof options !== 'object') throw new TypeError('"options" is not an object');
      if (!options.path) throw new TypeError('"path" is not a valid port');
      if (!options.baudRate) throw new TypeError('"baudRate" is not a valid baudRate');
      const openOptions: Required<OpenOptions> = {
        dataBits: 8,
        lock: true,
        stopBits: 1,
        parity: 'none',
        rtscts: false,
        xon: false,
        xoff: false,
        xany: false,
        hupcl: true,
        ...options,
      };
      await new Promise((r) => setImmediate(r));
      const chip = registry.get(options.path);
      if (!chip) {
        const err = new Error(`Error: No such file or directory, cannot open ${options.path}`) as NodeJS.ErrnoException;
        err.code = 'ENOENT';
        throw err;
      }
      const port = new VirtualPortBinding(openOptions);
      port.attach((listener) => chip.connect(listener, openOptions.baudRate));
      return port;
    },
  };
}

export class VirtualPortBinding implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = false;
  private host: HostPort | null = null;
  private rx: Uint8Array[] = [];
  private rxBytes = 0;
  private pendingRead: { wake: () => void; fail: (err: Error) => void } | null = null;
  private deadError: Error | null = null;
  private writeOperation: Promise<void> | null = null;

  constructor(openOptions: Required<OpenOptions>) {
    this.openOptions = { ...openOptions };
  }

  /** @internal */
  attach(connect: (listener: { data(b: Uint8Array): void; disconnected(e: Error): void }) => HostPort): void {
    this.host = connect({
      data: (bytes) => {
        this.rx.push(bytes);
        this.rxBytes += bytes.length;
        this.wakeReader();
      },
      disconnected: (err) => {
        // A vanished USB device: reads and writes fail with a non-cancel error, so SerialPort
        // reports a disconnect and closes itself.
        this.deadError = new DisconnectedError(err.message);
        this.host = null;
        const pending = this.pendingRead;
        this.pendingRead = null;
        pending?.fail(this.deadError);
      },
    });
    this.isOpen = true;
  }

  /** Bytes received and not yet read (for tests). */
  get bytesAvailable(): number {
    return this.rxBytes;
  }

  private wakeReader(): void {
    const pending = this.pendingRead;
    this.pendingRead = null;
    pending?.wake();
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open');
    this.isOpen = false;
    this.host?.close();
    this.host = null;
    this.rx = [];
    this.rxBytes = 0;
    const pending = this.pendingRead;
    this.pendingRead = null;
    pending?.fail(new CanceledError('port is closed'));
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (buffer.length < offset + length) throw new Error('buffer is too small');
    if (!this.isOpen) throw new Error('Port is not open');
    while (this.rxBytes === 0) {
      if (this.deadError) throw this.deadError;
      if (this.pendingRead) throw new Error('a read is already pending');
      await new Promise<void>((wake, fail) => {
        this.pendingRead = { wake, fail };
      });
      if (!this.isOpen) throw new CanceledError('Read canceled');
    }
    let copied = 0;
    while (copied < length && this.rx.length > 0) {
      const head = this.rx[0];
      const n = Math.min(head.length, length - copied);
      buffer.set(head.subarray(0, n), offset + copied);
      copied += n;
      if (n === head.length) this.rx.shift();
      else this.rx[0] = head.subarray(n);
    }
    this.rxBytes -= copied;
    return { buffer, bytesRead: copied };
  }

  async write(buffer: Buffer): Promise<void> {
    if (!Buffer.isBuffer(buffer)) throw new TypeError('"buffer" is not a Buffer');
    if (!this.isOpen) throw new Error('Port is not open');
    if (this.deadError || !this.host) throw this.deadError ?? new Error('Port is not open');
    if (this.writeOperation) throw new Error('Overlapping writes are not supported and should be queued by the serialport object');
    const data = new Uint8Array(buffer);
    this.writeOperation = (async () => {
      try {
        // Handed to the "OS": resolves at once; drain() waits for the line.
        await new Promise((r) => setImmediate(r));
        if (!this.isOpen) throw new CanceledError('Write canceled');
        if (this.deadError || !this.host) throw this.deadError ?? new Error('Port is not open');
        this.host.write(data);
      } finally {
        this.writeOperation = null;
      }
    })();
    return this.writeOperation;
  }

  async update(options: UpdateOptions): Promise<void> {
    if (typeof options !== 'object' || typeof options.baudRate !== 'number') {
      throw new TypeError('"options.baudRate" is not a number');
    }
    if (!this.isOpen) throw new Error('Port is not open');
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new Error(`Invalid baud rate ${options.baudRate}`);
    this.liveHost().setBaud(options.baudRate);
    this.openOptions.baudRate = options.baudRate;
  }

  async set(options: SetOptions): Promise<void> {
    if (typeof options !== 'object') throw new TypeError('"options" is not an object');
    if (!this.isOpen) throw new Error('Port is not open');
    // SerialPort fills every flag with its defaults; a direct caller may pass only some.
    this.liveHost().setSignals({ dtr: options.dtr, rts: options.rts });
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new Error('Port is not open');
    this.liveHost();
    // The ESP boards wire none of the modem-status inputs; CP210x reports CTS/DSR/DCD low.
    return { cts: false, dsr: false, dcd: false };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new Error('Port is not open');
    return { baudRate: this.liveHost().baud };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open');
    this.rx = [];
    this.rxBytes = 0;
    this.liveHost().discardOutput();
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new Error('Port is not open');
    // An in-progress write completes first, then wait until the line has carried everything.
    await this.writeOperation?.catch(() => undefined);
    await this.liveHost().drain();
  }

  private liveHost(): HostPort {
    if (this.deadError || !this.host) throw this.deadError ?? new Error('Port is not open');
    return this.host;
  }
}
