// The station's flashing API: identify a unit, then write a plan onto it, verify, reset it.
//
//   const dev = await connectAndIdentify(port, opts);          // MAC → pick an identity
//   const result = await flashDevice(port, plan, { ...opts, expectMac: dev.mac });
//
// or, on one connection: `openFlashSession` → `session.info` → `writePlan(session, plan)`.
// Every failure is a FlashError; the port is closed on every path.
import { readNvsImage } from '../../shared/nvs/reader.ts';
import { FlashError, flashErrorMessage, toFlashError } from './errors.ts';
import { hex } from './chips.ts';
import { validatePlan, type FlashPlan } from './plan.ts';
import { FlashSession, ROM_BAUD, DEFAULT_BAUD, type ConnectOptions, type DeviceInfo } from './session.ts';
import { writeRegions, type WrittenRegion } from './writer.ts';
import type { WireStats } from './transport.ts';

export { md5Hex, type WrittenRegion } from './writer.ts';

export interface FlashOptions extends ConnectOptions {
  /** 'md5' (default): esptool's MD5 check of every region. 'readback': also read the NVS region back and parse it. */
  verify?: 'md5' | 'readback';
  /** Refuse to write unless the chip has this MAC (the unit identified earlier). */
  expectMac?: string;
  /** Retry the whole run once at this rate when the high rate gives garbled answers (default 115200; false = never). */
  fallbackBaud?: number | false;
  /** Reset the chip into its new firmware at the end (default true; `after: 'no-reset'` is the same as false). */
  resetAfter?: boolean;
  /** esptool's --after: 'hard-reset' (default) or 'no-reset' (leave the chip in its loader). */
  after?: 'hard-reset' | 'no-reset';
  /**
   * Which loader writes: 'auto' (default) estimates per job whether uploading the flasher stub pays
   * off; 'rom' writes with the chip's ROM loader (esptool's --no-stub); 'stub' always uploads it.
   */
  loader?: 'auto' | 'rom' | 'stub';
}

export interface ReadbackResult {
  offset: number;
  size: number;
  /** Byte-for-byte equal to what was written (a mismatch throws 'verify-mismatch'). */
  matches: true;
  nvs: { namespaces: string[]; items: number; problems: string[] };
}

export interface FlashResult {
  port: string;
  chip: string;
  mac: string;
  flashSize: number;
  baud: number;
  device: DeviceInfo;
  regions: WrittenRegion[];
  readback?: ReadbackResult;
  timings: { connectMs: number; writeMs: number; readbackMs: number; resetMs: number; totalMs: number };
  /** Which loader wrote: the ROM's own, or the flasher stub (write-strategy.ts). */
  loader: 'rom' | 'stub';
  /** What crossed the serial line in the last attempt, and its wire time at the rates used. */
  wire: WireStats;
  /** 1, or 2 when the run was repeated at the fallback rate. */
  attempts: number;
  warnings: string[];
}

function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** Opens a session: chip in its ROM loader (or a stub found running) at the target baud, identified. */
export function openFlashSession(port: string, options: ConnectOptions = {}): Promise<FlashSession> {
  return FlashSession.connect(port, options);
}

/** Connects, reads chip / MAC / flash size, and releases the port (the chip stays in its loader). */
export async function connectAndIdentify(port: string, options: ConnectOptions = {}): Promise<DeviceInfo> {
  const session = await FlashSession.connect(port, options);
  try {
    return session.info;
  } finally {
    await session.close();
  }
}

/** Checks that the plan fits the connected chip (before anything is written). */
export function checkPlanAgainstDevice(plan: FlashPlan, info: DeviceInfo, expectMac?: string): void {
  if (plan.chip && plan.chip !== info.chip) {
    throw new FlashError(
      'wrong-chip',
      `The device on ${info.port} is an ${info.chipName}, but the images are for ${plan.chip} — put the matching board in the fixture or select the firmware for ${info.chip}`,
      { stage: 'check' },
    );
  }
  if (expectMac && normalizeMac(expectMac) !== info.mac) {
    throw new FlashError(
      'wrong-device',
      `The device on ${info.port} has MAC ${info.mac}, not ${normalizeMac(expectMac)} — a different unit was connected; identify it again before flashing`,
      { stage: 'check' },
    );
  }
  if (info.flashSize === 0) {
    throw new FlashError('flash-too-small', `The flash chip of the device on ${info.port} did not answer (flash id ${hex(info.flashId)}) — the module may be faulty`, { stage: 'check' });
  }
  if (plan.requiredFlashSize > info.flashSize) {
    throw new FlashError(
      'flash-too-small',
      `The device on ${info.port} has ${info.flashSize / 1048576} MB of flash, the layout needs ${hex(plan.requiredFlashSize)} bytes — use a module with more flash or a smaller partition table`,
      { stage: 'check' },
    );
  }
}

/** Writes (and verifies) a plan on an open session; does not reset or close. */
export async function writePlan(session: FlashSession, plan: FlashPlan, options: FlashOptions = {}): Promise<Pick<FlashResult, 'regions' | 'readback' | 'loader'> & { writeMs: number; readbackMs: number }> {
  validatePlan(plan);
  checkPlanAgainstDevice(plan, session.info, options.expectMac);
  const readbackShare = options.verify === 'readback' && plan.nvsRegion ? 0.1 : 0;
  session.armWatchdog(true);
  try {
    const report = await writeRegions(session, plan, { needsStub: readbackShare > 0, loader: options.loader, onProgress: options.onProgress, share: 1 - readbackShare });
    const t1 = Date.now();
    let readback: ReadbackResult | undefined;
    if (readbackShare > 0) {
      await session.useStub(); // the ROM reads 64 bytes per round trip; the stub streams
      readback = await readBack(session, plan, readbackShare, options.onProgress);
    }
    return { regions: report.regions, readback, loader: report.choice.loader, writeMs: report.writeMs, readbackMs: Date.now() - t1 };
  } finally {
    session.armWatchdog(false);
  }
}

/** Reads the NVS region back through the stub, compares it byte for byte and parses it. */
async function readBack(session: FlashSession, plan: FlashPlan, share: number, onProgress?: FlashOptions['onProgress']): Promise<ReadbackResult> {
  const { offset, size } = plan.nvsRegion!;
  const expected = plan.regions.find((r) => r.offset === offset);
  const data = await session.guard('readback', () =>
    session.loader.readFlash(offset, size, (_packet, got, total) =>
      onProgress?.({ stage: 'readback', region: expected?.name, bytes: got, bytesTotal: total, percent: Math.round((1 - share + (share * got) / total) * 1000) / 10 }),
    ),
  );
  const bytes = data.subarray(0, size);
  if (expected && !bytes.every((b, i) => b === (expected.data[i] ?? 0xff))) {
    const at = bytes.findIndex((b, i) => b !== (expected.data[i] ?? 0xff));
    throw new FlashError('verify-mismatch', flashErrorMessage('verify-mismatch', session.path, `read-back of ${expected.name} differs at ${hex(offset + at)}`), { stage: 'readback' });
  }
  const parsed = readNvsImage(bytes);
  return {
    offset,
    size,
    matches: true,
    nvs: { namespaces: parsed.namespaces.map((n) => n.name), items: parsed.items.length, problems: parsed.problems.map((p) => p.message) },
  };
}

async function flashOnce(port: string, plan: FlashPlan, options: FlashOptions, baud: number): Promise<Omit<FlashResult, 'attempts'>> {
  const t0 = Date.now();
  options.onProgress?.({ stage: 'open', bytes: 0, bytesTotal: 0, percent: 0, message: `opening ${port}` });
  const session = await FlashSession.connect(port, { ...options, baud });
  try {
    const connectMs = Date.now() - t0;
    const written = await writePlan(session, plan, options);
    const t2 = Date.now();
    const warnings = [...plan.warnings, ...session.warnings];
    if (options.resetAfter !== false && options.after !== 'no-reset') {
      options.onProgress?.({ stage: 'reset', bytes: 0, bytesTotal: 0, percent: 100 });
      if (session.info.modemLines === false) warnings.push(`${port} has no DTR/RTS lines: the chip was not reset; reset it by hand to run the new firmware`);
      else {
        try {
          await session.hardReset();
        } catch (err) {
          throw toFlashError(err, { port, stage: 'reset' });
        }
      }
    }
    const resetMs = Date.now() - t2;
    const info = session.info;
    options.onProgress?.({ stage: 'done', bytes: 0, bytesTotal: 0, percent: 100 });
    return {
      port,
      chip: info.chip,
      mac: info.mac,
      flashSize: info.flashSize,
      baud: info.baud,
      device: info,
      regions: written.regions,
      readback: written.readback,
      loader: written.loader,
      wire: session.device.wire,
      timings: { connectMs, writeMs: written.writeMs, readbackMs: written.readbackMs, resetMs, totalMs: Date.now() - t0 },
      warnings,
    };
  } finally {
    await session.close();
  }
}

/**
 * Connects, checks the plan against the chip, writes and verifies every region, optionally reads
 * the NVS region back, resets the chip into its firmware and releases the port.
 */
export async function flashDevice(port: string, plan: FlashPlan, options: FlashOptions = {}): Promise<FlashResult> {
  validatePlan(plan);
  const baud = options.baud ?? DEFAULT_BAUD;
  const fallback = options.fallbackBaud === undefined ? ROM_BAUD : options.fallbackBaud;
  try {
    return { ...(await flashOnce(port, plan, options, baud)), attempts: 1 };
  } catch (err) {
    const fe = toFlashError(err, { port });
    // Garbled answers at a high rate are usually the cable or bridge: one more try, slower.
    if (fe.code !== 'protocol' || fallback === false || baud <= fallback || options.signal?.aborted) throw fe;
    const again = await flashOnce(port, plan, options, fallback);
    return { ...again, warnings: [`${baud} baud failed (${fe.message}); flashed again at ${fallback} baud`, ...again.warnings], attempts: 2 };
  }
}
