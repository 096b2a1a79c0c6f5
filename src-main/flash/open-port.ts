// Opens serial ports for the flasher through serialport's native binding (or a binding passed in,
// e.g. the mock in tests). Ports are created unopened (the Transport opens them), so the flasher
// controls when the lines first move. Anything else — the virtual chips of the demo and the tests —
// comes in as an injected PortOpener (virtual-chip/port-opener.ts): this folder never imports
// virtual-chip/ (test/unit/layering.test.ts).
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { defaultBinding } from './ports.ts';
import { FlashError, flashErrorMessage } from './errors.ts';

/** Returns an unopened port for `path`; the flasher opens, uses and closes it. */
export type PortOpener = (path: string, baudRate: number) => SerialPortStream | Promise<SerialPortStream>;

export interface OpenSerialPortOptions {
  /** Binding for real paths (default: serialport's native binding; tests pass the mock). */
  binding?: BindingInterface;
}

export const VIRTUAL_PREFIX = 'virtual:';

export function isVirtualPath(path: string): boolean {
  return path.startsWith(VIRTUAL_PREFIX);
}

export function openSerialPort(path: string, baudRate: number, options: OpenSerialPortOptions = {}): SerialPortStream {
  if (isVirtualPath(path)) {
    // Only an injected opener (virtual-chip/port-opener.ts) knows virtual ports.
    throw new FlashError('port-not-found', flashErrorMessage('port-not-found', path, 'virtual ports exist only inside a station process that created them'));
  }
  return new SerialPortStream({ binding: options.binding ?? defaultBinding(), path, baudRate, autoOpen: false });
}

export function createPortOpener(options: OpenSerialPortOptions = {}): PortOpener {
  return (path, baudRate) => openSerialPort(path, baudRate, options);
}
