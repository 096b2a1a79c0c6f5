// How the station opens a port: real serial ports through the flasher's native opener (or the one
// the caller injects: tests reach virtual chips at /dev paths that way), `virtual:*`
// ports (demo, tests) on the virtual chips. The flasher knows nothing of virtual chips; they reach
// it only through this injected opener.
import { createPortOpener, type PortOpener } from '../flash/index.ts';
import { virtualPortOpener, type VirtualChipRegistry } from '../virtual-chip/index.ts';

export function stationPortOpener(registry: VirtualChipRegistry | undefined, real: PortOpener = createPortOpener()): PortOpener {
  return registry ? virtualPortOpener(registry, real) : real;
}
