// The Web-Serial-shaped adapter esptool-js drives, over node-serialport; and error mapping.
import { afterEach, describe, expect, it } from 'vitest';
import { SerialPortStream } from '@serialport/stream';
import { Transport } from 'esptool-js';
import { NodeSerialDevice, lookupUsbInfo } from '../../src-main/flash/transport.ts';
import { toFlashError } from '../../src-main/flash/errors.ts';
import { openSerialPort } from '../../src-main/flash/open-port.ts';
import { VirtualChipRegistry, virtualPortOpener } from '../../src-main/virtual-chip/index.ts';
import { MockBinding } from './helpers.ts';

afterEach(() => MockBinding.reset());

/** MockBinding whose ports record every set() / update() the adapter sends. */
function spyBinding() {
  const calls: string[] = [];
  let opens = 0;
  const binding = {
    list: () => MockBinding.list(),
    async open(options: Parameters<typeof MockBinding.open>[0]) {
      opens++;
      const port = await MockBinding.open(options);
      const set = port.set.bind(port);
      const update = port.update.bind(port);
      port.set = async (o: { dtr?: boolean; rts?: boolean }) => {
        calls.push(`set dtr=${o.dtr} rts=${o.rts}`);
        return set(o);
      };
      port.update = async (o: { baudRate: number }) => {
        calls.push(`update ${o.baudRate}`);
        return update(o);
      };
      return port;
    },
  };
  return { binding, calls, opens: () => opens };
}

async function makeDevice(echo = false) {
  MockBinding.createPort('/dev/ttyUSB0', { vendorId: '10c4', productId: 'ea60', echo });
  const spy = spyBinding();
  const port = new SerialPortStream({ binding: spy.binding as never, path: '/dev/ttyUSB0', baudRate: 115200, autoOpen: false });
  const device = new NodeSerialDevice(port, await lookupUsbInfo(spy.binding, '/dev/ttyUSB0'));
  return { device, port, ...spy };
}

describe('NodeSerialDevice', () => {
  it('reports the USB ids as numbers, like Web Serial getInfo()', async () => {
    const { device } = await makeDevice();
    expect(device.getInfo()).toEqual({ usbVendorId: 0x10c4, usbProductId: 0xea60 });
  });

  it('tracks both lines: setting one never changes the other (serialport set() defaults them to on)', async () => {
    const { device, calls } = await makeDevice();
    await device.open({ baudRate: 115200 });
    expect(device.lines).toMatchObject({ dtr: true, rts: true }); // a POSIX tty raises both on open
    await device.setSignals({ dataTerminalReady: false });
    await device.setSignals({ requestToSend: false });
    await device.setSignals({ requestToSend: true });
    await device.setSignals({ dataTerminalReady: true, requestToSend: false });
    expect(calls).toEqual(['set dtr=false rts=true', 'set dtr=false rts=false', 'set dtr=false rts=true', 'set dtr=true rts=false']);
    await device.close();
  });

  it('carries esptool-js Transport line calls through unchanged (setSignals with break undefined, setRTS/setDTR)', async () => {
    const { device, calls } = await makeDevice();
    const transport = new Transport(device as never);
    await transport.connect(115200);
    await transport.setSignals(false, true); // classic reset, first step
    await transport.setRTS(false); // re-sends the cached DTR
    await transport.setDTR(true);
    expect(calls).toEqual(['set dtr=false rts=true', 'set dtr=false rts=false', 'set dtr=false rts=false', 'set dtr=true rts=false']);
    await device.close();
  });

  it('changes baud in place (update, no reopen) and esptool-js uses it', async () => {
    const { device, port, calls, opens } = await makeDevice();
    const transport = new Transport(device as never);
    await transport.connect(115200);
    const reopened = await transport.changeBaudrate(921600);
    expect(reopened).toBe(false);
    expect(port.baudRate).toBe(921600);
    expect(calls).toEqual(['update 921600']);
    expect(opens()).toBe(1);
    await device.close();
  });

  it('moves bytes through WHATWG streams, replaced on every open and null while closed', async () => {
    const { device } = await makeDevice(true);
    await device.open({ baudRate: 115200 });
    const first = device.readable!;
    const writer = device.writable!.getWriter();
    await writer.write(Uint8Array.of(0xc0, 1, 2, 0xc0));
    writer.releaseLock();
    const reader = first.getReader();
    const got: number[] = [];
    while (got.length < 4) got.push(...(await reader.read()).value!);
    reader.releaseLock();
    expect(got).toEqual([0xc0, 1, 2, 0xc0]);
    expect(device.txBytes).toBe(4);
    await device.close();
    expect(device.readable).toBeNull();
    expect(device.writable).toBeNull();
    await device.open({ baudRate: 115200 });
    expect(device.readable).not.toBe(first);
    await device.close();
  });

  it('notices the port vanishing (unplug) and keeps the boot text it saw', async () => {
    const registry = new VirtualChipRegistry();
    registry.create('virtual:x', { chip: 'esp32', pacing: false });
    const device = new NodeSerialDevice(virtualPortOpener(registry)('virtual:x', 115200) as ReturnType<typeof openSerialPort>);
    await device.open({ baudRate: 115200 });
    // EN low then released with IO0 high: the chip boots its (empty) flash and prints the ROM banner.
    await device.setSignals({ dataTerminalReady: false, requestToSend: true });
    await device.setSignals({ dataTerminalReady: false, requestToSend: false });
    expect(await device.waitForText(/boot:0x13/, 0, 10_000)).toBe(true);
    const lost = device.whenLost();
    registry.remove('virtual:x');
    await expect(lost).rejects.toMatchObject({ disconnected: true });
    expect(device.lost).not.toBeNull();
    expect(device.readable).toBeNull();
  });
});

describe('toFlashError', () => {
  const code = (message: string) => toFlashError(new Error(message), { port: 'P' }).code;
  it.each([
    ['Error Resource temporarily unavailable Cannot lock port', 'port-busy'], // bindings-cpp, Linux
    ['Opening COM3: Access denied', 'port-busy'], // bindings-cpp, Windows
    ['Port is locked cannot open', 'port-busy'], // binding-mock
    ['port is already open (locked)', 'port-busy'], // virtual chip
    ['Error: No such file or directory, cannot open /dev/ttyUSB9', 'port-not-found'],
    ['Failed to connect with the device', 'no-download-mode'], // esptool-js connect()
    ['MD5 of file does not match data in flash!', 'verify-mismatch'],
    ['Serial data stream stopped: Possible serial noise or corruption.', 'timeout'],
    ['No serial data received.', 'timeout'],
    ['Invalid head of packet (0x55): Possible serial noise or corruption.', 'protocol'],
    ['Failed to write compressed data to flash after seq 3 failed with status 193,0', 'protocol'],
    ['device disconnected (virtual unplug)', 'unplugged'],
    ['Inappropriate ioctl for device, cannot set', 'no-download-mode'], // bindings-cpp on a pty
  ])('%s → %s', (message, expected) => {
    expect(code(message)).toBe(expected);
  });

  it('tells the operator what to do, naming the port', () => {
    expect(toFlashError(new Error('Failed to connect with the device'), { port: '/dev/ttyUSB0' }).message).toBe(
      'No device in download mode on /dev/ttyUSB0 — hold BOOT, tap RESET (or replug the board with BOOT held), then try again',
    );
    // Not "garbled answers … use a shorter USB cable": the device simply has no modem lines.
    expect(toFlashError(new Error('Inappropriate ioctl for device, cannot set'), { port: '/dev/pts/3' }).message).toBe(
      'No device in download mode on /dev/pts/3 (the serial device has no DTR/RTS lines, so the chip cannot be reset from here; put it in download mode by hand and use --before no-reset) — hold BOOT, tap RESET (or replug the board with BOOT held), then try again',
    );
  });
});
