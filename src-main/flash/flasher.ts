// The station's flashing API: identify a unit, then write a plan onto it, verify, reset it.
//
//   const dev = await connectAndIdentify(port, opts);          // MAC → pick an identity
//   const result = await flashDevice(port, plan, { ...opts, expectMac: dev.mac });
//
// or, on one connection: `openFlashSession` → `session.info` → `writePlan(session, plan)`.
// Every failure is a FlashError; the port is closed on every path.
import { createHash } from 'node:crypto';
import { readNvsImage } from '../../shared/nvs/reader.ts';
import { FlashError, flashErrorMessage, toFlashError } from './errors.ts';
import { hex } from './chips.ts';
import { validatePlan, type FlashPlan } from './plan.ts';
import { FlashSession, ROM_BAUD, DEFAULT_BAUD, type ConnectOptions, type DeviceInfo, type FlashProgress } from './session.ts';

export interface FlashOptions extends ConnectOptions {
  /** 'md5' (default): esptool's MD5 check of every region. 'readback': also read the NVS region back and parse it. */
  verify?: 'md5' | 'readback';
  /** Refuse to write unless the chip has this MAC (the unit identified earlier). */
  expectMac?: string;
  /** Retry the whole run once at this rate when the high rate gives garbled answers (default 115200; false = never). */
  fallbackBaud?: number | false;
  /** Reset the chip into its new firmware at the end (default true). */
  resetAfter?: boolean;
}

export interface WrittenRegion {
  name: string;
  offset: number;
  size: number;
  /** MD5 (hex) of the bytes on flash, as verified by the chip's stub. */
  md5: string;
  /** Bytes sent on the wire (compressed). */
  compressedSize: number;
  ms: number;
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
  /** 1, or 2 when the run was repeated at the fallback rate. */
  attempts: number;
  warnings: string[];
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

function normalizeMac(mac: string): string {
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** Opens a session: chip in download mode, identified, stub running at the target baud. */
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
export async function writePlan(session: FlashSession, plan: FlashPlan, options: FlashOptions = {}): Promise<Pick<FlashResult, 'regions' | 'readback'> & { writeMs: number; readbackMs: number }> {
  validatePlan(plan);
  checkPlanAgainstDevice(plan, session.info, options.expectMac);
  const loader = session.loader;
  const totalBytes = plan.regions.reduce((n, r) => n + r.data.length, 0);
  const readbackShare = options.verify === 'readback' && plan.nvsRegion ? 0.1 : 0;
  let doneBytes = 0;
  const emit = (e: Omit<FlashProgress, 'percent'>, fraction: number) =>
    options.onProgress?.({ ...e, percent: Math.min(100, Math.round(fraction * (1 - readbackShare) * 1000) / 10) });

  const regions: WrittenRegion[] = [];
  const t0 = Date.now();
  session.armWatchdog(true);
  try {
    for (const region of plan.regions) {
      const started = Date.now();
      let md5 = '';
      let compressedSize = 0;
      try {
        await session.guard(`write:${region.name}`, () =>
          loader.writeFlash({
            fileArray: [{ data: region.data, address: region.offset }],
            flashMode: 'keep',
            flashFreq: 'keep',
            flashSize: 'keep',
            eraseAll: false,
            compress: true,
            calculateMD5Hash: (image) => (md5 = md5Hex(image)),
            reportProgress: (_i, written, total) => {
              compressedSize = total;
              const fraction = (doneBytes + (total ? (written / total) * region.data.length : 0)) / totalBytes;
              const stage = written === total && total > 0 ? 'verify' : 'write';
              emit({ stage, region: region.name, bytes: written, bytesTotal: total }, fraction);
            },
          }),
        );
      } catch (err) {
        const fe = toFlashError(err, { port: session.path, stage: `write:${region.name}` });
        if (fe.code === 'verify-mismatch') {
          throw new FlashError('verify-mismatch', flashErrorMessage('verify-mismatch', session.path, `${region.name} at ${hex(region.offset)}`), { cause: fe.cause, stage: fe.stage });
        }
        throw fe;
      }
      doneBytes += region.data.length;
      regions.push({ name: region.name, offset: region.offset, size: region.data.length, md5, compressedSize, ms: Date.now() - started });
    }
    const writeMs = Date.now() - t0;

    let readback: ReadbackResult | undefined;
    const t1 = Date.now();
    if (options.verify === 'readback' && plan.nvsRegion) {
      const { offset, size } = plan.nvsRegion;
      const expected = plan.regions.find((r) => r.offset === offset);
      const data = await session.guard('readback', () =>
        loader.readFlash(offset, size, (_packet, got, total) =>
          options.onProgress?.({ stage: 'readback', region: expected?.name, bytes: got, bytesTotal: total, percent: Math.round((1 - readbackShare + (readbackShare * got) / total) * 1000) / 10 }),
        ),
      );
      const bytes = data.subarray(0, size);
      if (expected && !bytes.every((b, i) => b === (expected.data[i] ?? 0xff))) {
        const at = bytes.findIndex((b, i) => b !== (expected.data[i] ?? 0xff));
        throw new FlashError('verify-mismatch', flashErrorMessage('verify-mismatch', session.path, `read-back of ${expected.name} differs at ${hex(offset + at)}`), { stage: 'readback' });
      }
      const parsed = readNvsImage(bytes);
      readback = {
        offset,
        size,
        matches: true,
        nvs: {
          namespaces: parsed.namespaces.map((n) => n.name),
          items: parsed.items.length,
          problems: parsed.problems.map((p) => p.message),
        },
      };
    }
    return { regions, readback, writeMs, readbackMs: Date.now() - t1 };
  } finally {
    session.armWatchdog(false);
  }
}

async function flashOnce(port: string, plan: FlashPlan, options: FlashOptions, baud: number): Promise<Omit<FlashResult, 'attempts' | 'warnings'>> {
  const t0 = Date.now();
  options.onProgress?.({ stage: 'open', bytes: 0, bytesTotal: 0, percent: 0, message: `opening ${port}` });
  const session = await FlashSession.connect(port, { ...options, baud });
  try {
    const connectMs = Date.now() - t0;
    const written = await writePlan(session, plan, options);
    const t2 = Date.now();
    if (options.resetAfter !== false) {
      options.onProgress?.({ stage: 'reset', bytes: 0, bytesTotal: 0, percent: 100 });
      try {
        await session.hardReset();
      } catch (err) {
        throw toFlashError(err, { port, stage: 'reset' });
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
      timings: { connectMs, writeMs: written.writeMs, readbackMs: written.readbackMs, resetMs, totalMs: Date.now() - t0 },
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
  const warnings = [...plan.warnings];
  try {
    return { ...(await flashOnce(port, plan, options, baud)), attempts: 1, warnings };
  } catch (err) {
    const fe = toFlashError(err, { port });
    // Garbled answers at a high rate are usually the cable or bridge: one more try, slower.
    if (fe.code !== 'protocol' || fallback === false || baud <= fallback || options.signal?.aborted) throw fe;
    warnings.push(`${baud} baud failed (${fe.message}); flashed again at ${fallback} baud`);
    return { ...(await flashOnce(port, plan, options, fallback)), attempts: 2, warnings };
  }
}


