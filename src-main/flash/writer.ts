// Writes a plan's regions on an open session and checks every one of them by MD5 — the one rule
// every path keeps. Per job: ask the chip for each region's MD5 first (already there → nothing to
// write; blank → the stub need not erase), pick the ROM's own write or the stub
// (write-strategy.ts), write, verify; optionally read the NVS back through the stub.
//
// Only bytes up to the last non-0xFF byte are sent: the rest of the region is erased flash. The
// ROM erases the whole region before it answers; with the stub, the untouched tail is erased
// unless its MD5 shows it blank. Either way the final MD5 covers the whole region, so a tail that
// was not blank cannot pass.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import { Inflate } from 'pako';
import { FlashError, flashErrorMessage, toFlashError } from './errors.ts';
import { hex } from './chips.ts';
import { ROM_WRITE_BLOCK, STUB_WRITE_BLOCK } from './station-loader.ts';
import { chooseLoader, romEraseEstimateMs, type LoaderChoice, type RegionJob } from './write-strategy.ts';
import type { FlashPlan, FlashRegion } from './plan.ts';
import type { FlashProgress, FlashSession } from './session.ts';

const SECTOR = 0x1000;
/** Per-command overhead assumed until the pre-check has measured it. */
const DEFAULT_COMMAND_MS = 2;

export interface WrittenRegion {
  name: string;
  offset: number;
  size: number;
  /** MD5 (hex) of the bytes on flash, as the chip computed it. */
  md5: string;
  /** Bytes sent on the wire (compressed); 0 when the region was already on flash. */
  compressedSize: number;
  ms: number;
  /** True when the chip already held exactly these bytes (its MD5 matched before writing). */
  unchanged?: boolean;
}

export interface WriteReport {
  regions: WrittenRegion[];
  choice: LoaderChoice;
  writeMs: number;
}

interface Job extends RegionJob {
  region: FlashRegion;
  image: Uint8Array;
  /** zlib -9 of the bytes to send; made on libuv's thread pool while the chip answers MD5s. */
  compressing: Promise<Uint8Array>;
  compressed: Uint8Array;
  md5: string;
  blankMd5: string;
}

export interface WriteRegionsOptions {
  /** The stub will be needed afterwards anyway (read-back): its upload is no extra cost. */
  needsStub: boolean;
  /** 'auto' (default): estimate; 'rom' / 'stub': write with that loader. */
  loader?: 'auto' | 'rom' | 'stub';
  onProgress?: (event: FlashProgress) => void;
  /** Share of the whole run's percent the writes take (the rest is read-back). */
  share: number;
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

const zlibDeflate = promisify(deflate);

/** The region's bytes (padded to 4 with 0xFF, as esptool does), trimmed; compression started. */
function prepare(region: FlashRegion): Job {
  const image = new Uint8Array(roundUp(region.data.length, 4)).fill(0xff);
  image.set(region.data);
  let end = image.length;
  while (end > 0 && image[end - 1] === 0xff) end--;
  const dataLength = roundUp(end, 4);
  const compressing = zlibDeflate(image.subarray(0, dataLength), { level: 9 }).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  compressing.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
  return {
    region,
    image,
    compressing,
    compressed: new Uint8Array(0),
    offset: region.offset,
    length: image.length,
    dataLength,
    compressedLength: 0,
    state: 'dirty',
    md5: md5Hex(image),
    blankMd5: md5Hex(new Uint8Array(image.length).fill(0xff)),
  };
}

export async function writeRegions(session: FlashSession, plan: FlashPlan, options: WriteRegionsOptions): Promise<WriteReport> {
  const t0 = Date.now();
  const jobs = plan.regions.map(prepare);
  const totalBytes = jobs.reduce((n, j) => n + j.region.data.length, 0);
  let doneBytes = 0;
  const emit = (e: Omit<FlashProgress, 'percent'>, bytes: number) =>
    options.onProgress?.({ ...e, percent: Math.min(100, Math.round(((doneBytes + bytes) / totalBytes) * options.share * 1000) / 10) });

  emit({ stage: 'write', bytes: 0, bytesTotal: 0, message: 'checking what is on flash' }, 0);
  await precheck(session, jobs);
  for (const job of jobs) {
    job.compressed = await job.compressing;
    job.compressedLength = job.compressed.length;
  }
  const loader = session.loader;
  const commandMs = loader.commandOverheadMs ?? DEFAULT_COMMAND_MS;
  const choice = chooseLoader({
    jobs,
    link: { baud: session.info.baud, commandMs },
    stub: { bytes: loader.IS_STUB ? 0 : await loader.stubSize(), ramBlockSize: loader.ESP_RAM_BLOCK },
    romBlockSize: ROM_WRITE_BLOCK,
    stubBlockSize: STUB_WRITE_BLOCK,
    needsStub: options.needsStub,
    romPathKnown: loader.chipName !== undefined,
    stubRunning: loader.IS_STUB,
    prefer: options.loader,
  });
  loader.info(`Writing with the ${choice.loader === 'rom' ? 'ROM loader' : 'flasher stub'}: ${choice.reason}`);
  if (choice.loader === 'stub') await session.useStub();

  const regions: WrittenRegion[] = [];
  for (const job of jobs) {
    const started = Date.now();
    const name = job.region.name;
    if (job.state !== 'identical') {
      emit({ stage: 'write', region: name, bytes: 0, bytesTotal: job.compressedLength }, 0);
      await writeJob(session, job, (sent) => emit({ stage: 'write', region: name, bytes: sent, bytesTotal: job.compressedLength }, (job.region.data.length * sent) / Math.max(1, job.compressedLength)));
      emit({ stage: 'verify', region: name, bytes: job.compressedLength, bytesTotal: job.compressedLength }, job.region.data.length);
      await verify(session, job);
    }
    doneBytes += job.region.data.length;
    emit({ stage: 'verify', region: name, bytes: 0, bytesTotal: 0 }, 0);
    const unchanged = job.state === 'identical' ? { unchanged: true } : {};
    regions.push({ name, offset: job.offset, size: job.region.data.length, md5: job.md5, compressedSize: job.state === 'identical' ? 0 : job.compressedLength, ms: Date.now() - started, ...unchanged });
  }
  return { regions, choice, writeMs: Date.now() - t0 };
}

/** MD5 of every region as it is now: already there, blank, or other data. */
async function precheck(session: FlashSession, jobs: Job[]): Promise<void> {
  for (const job of jobs) {
    const md5 = await session.guard('check', () => session.loader.flashMd5(job.offset, job.length));
    job.state = md5 === job.md5 ? 'identical' : md5 === job.blankMd5 ? 'blank' : 'dirty';
  }
}

async function writeJob(session: FlashSession, job: Job, progress: (sent: number) => void): Promise<void> {
  const stage = `write:${job.region.name}`;
  const loader = session.loader;
  try {
    if (!loader.IS_STUB) {
      const eraseSize = roundUp(job.length, ROM_WRITE_BLOCK);
      const expected = romEraseEstimateMs(job.offset, eraseSize);
      await session.allowSilence(expected * 4, () => session.guard(stage, () => loader.beginDeflate(job.offset, eraseSize, job.dataLength, job.compressedLength, ROM_WRITE_BLOCK)));
      await sendBlocks(session, job, ROM_WRITE_BLOCK, stage, progress);
      return;
    }
    const tailStart = roundUp(job.offset + job.dataLength, SECTOR);
    const tailEnd = job.offset + roundUp(job.length, SECTOR);
    if (job.dataLength > 0) {
      await session.guard(stage, () => loader.beginDeflate(job.offset, 0, job.dataLength, job.compressedLength, STUB_WRITE_BLOCK));
      await sendBlocks(session, job, STUB_WRITE_BLOCK, stage, progress);
    }
    if (tailEnd > tailStart && job.state !== 'blank') {
      const blank = md5Hex(new Uint8Array(tailEnd - tailStart).fill(0xff));
      const tail = await session.guard(stage, () => loader.flashMd5(tailStart, tailEnd - tailStart));
      if (tail !== blank) await session.guard(stage, () => loader.eraseRegion(tailStart, tailEnd - tailStart));
    }
  } catch (err) {
    throw toFlashError(err, { port: session.path, stage });
  }
}

/** FLASH_DEFL_DATA blocks, with esptool's timeouts (40 s/MB of the data a block inflates to). */
async function sendBlocks(session: FlashSession, job: Job, blockSize: number, stage: string, progress: (sent: number) => void): Promise<void> {
  const loader = session.loader;
  const inflater = new Inflate();
  let produced = 0;
  inflater.onData = (chunk: Uint8Array) => (produced += chunk.length);
  let previousTimeout = loader.DEFAULT_TIMEOUT;
  for (let seq = 0, at = 0; at < job.compressed.length; seq++, at += blockSize) {
    const block = job.compressed.subarray(at, at + blockSize);
    const before = produced;
    inflater.push(block, at + blockSize >= job.compressed.length);
    const blockTimeout = Math.max(loader.DEFAULT_TIMEOUT, loader.timeoutPerMb(loader.ERASE_WRITE_TIMEOUT_PER_MB, produced - before));
    // The ROM programs a block before it answers; the stub answers first and programs while the next block travels.
    const timeout = loader.IS_STUB ? previousTimeout : blockTimeout;
    previousTimeout = blockTimeout;
    await session.guard(stage, () => loader.flashDeflBlock(block, seq, timeout));
    progress(Math.min(job.compressed.length, at + blockSize));
  }
}

async function verify(session: FlashSession, job: Job): Promise<void> {
  const md5 = await session.guard('verify', () => session.loader.flashMd5(job.offset, job.length));
  if (md5 !== job.md5) {
    throw new FlashError('verify-mismatch', flashErrorMessage('verify-mismatch', session.path, `${job.region.name} at ${hex(job.offset)}`), { stage: 'verify' });
  }
}
