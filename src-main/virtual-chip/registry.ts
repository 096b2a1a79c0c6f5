// Which virtual chips are "plugged in", by port path. Several chips can be served at once.
import type { PortInfo } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { USB_IDENTITIES } from './profiles.ts';
import { VirtualChip, type VirtualChipOptions } from './chip.ts';

export interface VirtualPortInfo extends PortInfo {
  chip: VirtualChip;
}

export class VirtualChipRegistry {
  private readonly chips = new Map<string, { chip: VirtualChip; serial: string; onUnplug: () => void }>();
  private serialCounter = 0;

  /** Plugs `chip` in at `path` (powering it up if it was unplugged). */
  add(path: string, chip: VirtualChip): void {
    if (this.chips.has(path)) throw new Error(`virtual port ${path} is already in use`);
    // A fault-triggered unplug removes the port, as the OS does for a vanished USB device.
    const onUnplug = () => {
      if (this.chips.get(path)?.chip === chip) this.chips.delete(path);
      chip.off('unplug', onUnplug);
    };
    chip.on('unplug', onUnplug);
    this.serialCounter++;
    this.chips.set(path, { chip, serial: `VC${String(this.serialCounter).padStart(6, '0')}`, onUnplug });
    chip.powerOn();
  }

  /** Convenience: creates a chip with `options` and plugs it in at `path`. */
  create(path: string, options: VirtualChipOptions): VirtualChip {
    const chip = new VirtualChip(options);
    this.add(path, chip);
    return chip;
  }

  get(path: string): VirtualChip | undefined {
    return this.chips.get(path)?.chip;
  }

  /** Unplugs the chip at `path`: an open port errors and closes, the path disappears from list(). */
  remove(path: string): void {
    const entry = this.chips.get(path);
    if (!entry) return;
    this.chips.delete(path);
    entry.chip.off('unplug', entry.onUnplug);
    entry.chip.unplug();
  }

  /** Port descriptions with plausible USB identities (CP210x for the UART bridge, 303a:1001 for USB-Serial/JTAG). */
  list(): VirtualPortInfo[] {
    return [...this.chips.entries()].map(([path, { chip, serial }]) => {
      const usb = USB_IDENTITIES[chip.options.circuit];
      return {
        path,
        manufacturer: usb.manufacturer,
        serialNumber: usb.vendorId === '303a' ? chip.options.mac.toUpperCase() : serial,
        pnpId: `usb-${usb.manufacturer.replace(/\s+/g, '_')}_virtual_${serial}-if00`,
        locationId: undefined,
        vendorId: usb.vendorId,
        productId: usb.productId,
        chip,
      };
    });
  }
}
