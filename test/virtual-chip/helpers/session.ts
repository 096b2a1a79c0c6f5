// Drives a virtual chip with esptool-js 0.7.0 through the product's Web-Serial adapter
// (src-main/flash/transport.ts) over a SerialPortStream opened with the virtual binding.
import { createHash } from 'node:crypto';
import { SerialPortStream } from '@serialport/stream';
import { ESPLoader, Transport } from 'esptool-js';
import { NodeSerialDevice } from '../../../src-main/flash/transport.ts';
import {
  createVirtualBinding,
  VirtualChipRegistry,
  type VirtualChip,
  type VirtualChipOptions,
} from '../../../src-main/virtual-chip/index.ts';

export interface Session {
  registry: VirtualChipRegistry;
  chip: VirtualChip;
  device: NodeSerialDevice;
  loader: ESPLoader;
  log: string[];
  close(): Promise<void>;
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

export function makeSession(
  options: VirtualChipOptions,
  loaderOptions: { baudrate?: number; romBaudrate?: number } = {},
  path = `virtual:${options.chip}`,
): Session {
  const registry = new VirtualChipRegistry();
  const chip = registry.create(path, options);
  const binding = createVirtualBinding(registry);
  const usb = chip.options.circuit === 'usb-jtag' ? { usbVendorId: 0x303a, usbProductId: 0x1001 } : { usbVendorId: 0x10c4, usbProductId: 0xea60 };
  const port = new SerialPortStream({ binding, path, baudRate: 115200, autoOpen: false });
  const device = new NodeSerialDevice(port, usb);
  const log: string[] = [];
  const terminal = { clean() {}, writeLine: (s: string) => log.push(s), write: (s: string) => log.push(s) };
  const transport = new Transport(device as unknown as ConstructorParameters<typeof Transport>[0]);
  // esptool-js prints "TRACE … Serial port done" to the console when its read loop ends, even with
  // tracing off: keep its trace lines out of the test output.
  const quiet: string[] = [];
  transport.trace = (message: string) => void quiet.push(message);
  const loader = new ESPLoader({
    transport,
    baudrate: loaderOptions.baudrate ?? 921600,
    romBaudrate: loaderOptions.romBaudrate,
    terminal,
  });
  return {
    registry,
    chip,
    device,
    loader,
    log,
    async close() {
      if (device.isOpen) await loader.transport.disconnect();
    },
  };
}

/** Deterministic pseudo-random test data (xorshift), so images do not compress to nothing. */
export function testImage(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i % 3 === 0 ? 0x20 : x & 0xff; // partly compressible, like real images
  }
  return out;
}
