// Opens serial ports for the flasher: real ones through serialport's native binding, `virtual:*`
// paths through the in-process virtual chip binding. Ports are created unopened (the
// Transport opens them), so the flasher controls when the lines first move.
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { createVirtualBinding, type VirtualChipRegistry } from '../virtual-chip/index.ts';
import { defaultBinding } from './ports.ts';
import { FlashError, flashErrorMessage } from './errors.ts';

/** Returns an unopened port for `path`; the flasher opens, uses and closes it. */
export type PortOpener = (path: string, baudRate: number) => SerialPortStream | Promise<SerialPortStream>;

export interface OpenSerialPortOptions {
  /** Where `virtual:*` paths live. */
  virtualRegistry?: VirtualChipRegistry;
  /** Binding for real paths (default: serialport's native binding; tests pass the mock). */
  binding?: BindingInterface;
}

export const VIRTUAL_PREFIX = 'virtual:';

export function isVirtualPath(path: string): boolean {
  return path.startsWith(VIRTUAL_PREFIX);
}

export function openSerialPort(path: string, baudRate: number, options: OpenSerialPortOptions = {}): SerialPortStream {
  let binding: BindingInterface;
  if (isVirtualPath(path)) {
    if (!options.virtualRegistry) {
      throw new FlashError('port-not-found', flashErrorMessage('port-not-found', path, 'virtual ports exist only inside a station process that created them'));
    }
    binding = createVirtualBinding(options.virtualRegistry) as unknown as BindingInterface;
  } else {
    binding = options.binding ?? defaultBinding();
  }
  return new SerialPortStream({ binding, path, baudRate, autoOpen: false });
}

export function createPortOpener(options: OpenSerialPortOptions = {}): PortOpener {
  return (path, baudRate) => openSerialPort(path, baudRate, options);
}
