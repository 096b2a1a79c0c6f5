// The virtual chips' way into the flasher: a port opener (the flasher's PortOpener shape) that
// opens `virtual:*` paths on the registry's chips and hands every other path to `fallback` (the
// native opener, when a station serves real and virtual ports alike). The flasher itself never
// imports this folder (test/unit/layering.test.ts): the virtual chip reaches it only through this
// injected opener.
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { createVirtualBinding } from './binding.ts';
import type { VirtualChipRegistry } from './registry.ts';

export const VIRTUAL_PREFIX = 'virtual:';

/** Same shape as the flasher's PortOpener: an unopened port for `path`. */
export type VirtualPortOpener = (path: string, baudRate: number) => SerialPortStream | Promise<SerialPortStream>;

export function virtualPortOpener(registry: VirtualChipRegistry, fallback?: VirtualPortOpener): VirtualPortOpener {
  const binding = createVirtualBinding(registry) as unknown as BindingInterface;
  return (path, baudRate) => {
    if (!path.startsWith(VIRTUAL_PREFIX) && fallback) return fallback(path, baudRate);
    return new SerialPortStream({ binding, path, baudRate, autoOpen: false });
  };
}
