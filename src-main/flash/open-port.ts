// Opens serial ports for the flasher through serialport's native binding (or a binding passed in,
// e.g. the mock in tests). Ports are created unopened (the Transport opens them), so the flasher
// controls when the lines first move. Anything else — the virtual chips of the demo and the tests —
// comes in as an injected PortOpener (virtual-chip/port-opener.ts): this folder never imports
// virtual-chip/ (test/unit/layering.test.ts).
import { existsSync, statSync } from 'node:fs';
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

/** Linux's character-device major of the memory devices (/dev/null, /dev/zero, /dev/random …). */
const LINUX_MEM_MAJOR = 1;

/**
 * The real cause when `path` cannot be a serial port, found without opening it (opening moves
 * DTR/RTS on many adapters): missing (with the /dev/ path when only the name was given), a folder,
 * a regular file, a memory device. Windows' COMn names are left to the driver.
 */
export function checkPortPath(path: string): void {
  if (process.platform === 'win32' || /^(\\\\\.\\)?COM\d+$/i.test(path)) return;
  const fail = (code: 'port-not-found' | 'not-a-port', detail?: string): never => {
    throw new FlashError(code, flashErrorMessage(code, path, detail));
  };
  if (!existsSync(path)) {
    const inDev = !path.includes('/') && existsSync(`/dev/${path}`);
    return fail('port-not-found', inDev ? `did you mean /dev/${path}?` : undefined);
  }
  const st = statSync(path);
  if (st.isDirectory()) fail('not-a-port', 'it is a folder');
  if (st.isFile()) fail('not-a-port', 'it is a regular file');
  if (!st.isCharacterDevice()) fail('not-a-port', 'it is not a character device');
  if (process.platform === 'linux' && Math.floor(st.rdev / 256) % 4096 === LINUX_MEM_MAJOR) fail('not-a-port', 'it is a memory device such as /dev/null');
}

export function openSerialPort(path: string, baudRate: number, options: OpenSerialPortOptions = {}): SerialPortStream {
  if (isVirtualPath(path)) {
    // Only an injected opener (virtual-chip/port-opener.ts) knows virtual ports.
    throw new FlashError('port-not-found', flashErrorMessage('port-not-found', path, 'virtual ports exist only inside a station process that created them'));
  }
  // The real binding opens real paths: say why one cannot be a port before trying.
  if (!options.binding) checkPortPath(path);
  return new SerialPortStream({ binding: options.binding ?? defaultBinding(), path, baudRate, autoOpen: false });
}

export function createPortOpener(options: OpenSerialPortOptions = {}): PortOpener {
  return (path, baudRate) => openSerialPort(path, baudRate, options);
}
