// How the station opens a port: real serial ports through the flasher's native opener, `virtual:*`
// ports (demo, tests) on the virtual chips. The flasher knows nothing of virtual chips; they reach
// it only through this injected opener.
import { createPortOpener, type PortOpener } from '../flash/index.ts';
import { virtualPortOpener, type VirtualChipRegistry } from '../virtual-chip/index.ts';

export function stationPortOpener(registry: VirtualChipRegistry | undefined): PortOpener {
  const native = createPortOpener();
  return registry ? virtualPortOpener(registry, native) : native;
}
