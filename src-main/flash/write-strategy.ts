// Which loader writes a job: the ROM's own compressed write + MD5, or the flasher stub (uploaded
// first). Decided per job from an estimate of each, using what the chip showed before anything was
// written (each region's MD5: already identical, blank, or holding other data) and the link's
// measured speed. The stub costs its upload; the ROM erases every sector before it answers and
// takes 1 KiB blocks, each programmed before the next is sent; the stub streams 16 KiB blocks,
// programs while the next one travels and skips leading blank sectors.
//
// The host cannot know the flash part, so the chip-side figures are planning estimates: typical
// values of the W25Q32JV datasheet (the 4 MB part on most ESP32 modules) and spec §15. They only
// choose between two correct ways to write: both end with the same MD5 check.

/** What the host assumes about the chip's flash (typical datasheet values; see above). */
export const CHIP_ESTIMATES = {
  sectorEraseMs: 45,
  blockEraseMs: 150,
  programBytesPerMs: 400,
  md5BytesPerMs: 8000,
  /** MEM_END → OHAI (ESP32 stubs re-clock the UART: ~11 ms; others a few ms). */
  stubStartMs: 11,
} as const;

const SECTOR = 0x1000;
const SECTORS_PER_BLOCK = 16;
/** Command header (8) + data-block header (16) + SLIP delimiters (2). */
const BLOCK_OVERHEAD = 26;
/** A status-only answer with SLIP framing: 12–14 bytes. */
const ANSWER_BYTES = 14;

export type RegionState = 'identical' | 'blank' | 'dirty';

export interface RegionJob {
  offset: number;
  /** Bytes the region covers on flash (what is erased and MD5-checked). */
  length: number;
  /** Bytes actually sent: up to the last byte that is not 0xFF (the rest is left erased). */
  dataLength: number;
  /** Size of `dataLength` bytes after deflate. */
  compressedLength: number;
  state: RegionState;
}

export interface LinkEstimate {
  baud: number;
  /** Time a command costs beyond its bytes on the wire (USB latency, turnaround), measured. */
  commandMs: number;
}

export interface StubEstimate {
  /** Text + data bytes of the stub image; 0 when there is none for this chip. */
  bytes: number;
  ramBlockSize: number;
}

export interface LoaderChoice {
  loader: 'rom' | 'stub';
  romMs: number;
  stubMs: number;
  reason: string;
}

function wireMs(bytes: number, baud: number): number {
  return (bytes * 10 * 1000) / baud;
}

/** The ROM erases whole sectors up to a 64 KiB boundary, then blocks while more than 16 sectors remain, then sectors. */
export function romEraseEstimateMs(offset: number, length: number): number {
  const first = Math.floor(offset / SECTOR);
  const count = Math.ceil((offset + length) / SECTOR) - first;
  const head = Math.min(SECTORS_PER_BLOCK - (first % SECTORS_PER_BLOCK), count);
  let rest = count - head;
  let blocks = 0;
  for (; rest > SECTORS_PER_BLOCK; rest -= SECTORS_PER_BLOCK) blocks++;
  return (head + rest) * CHIP_ESTIMATES.sectorEraseMs + blocks * CHIP_ESTIMATES.blockEraseMs;
}

/** The stub erases what is not blank, in 64 KiB blocks where aligned. */
function stubEraseEstimateMs(job: RegionJob): number {
  if (job.state !== 'dirty') return 0;
  const first = Math.floor(job.offset / SECTOR);
  const count = Math.ceil((job.offset + job.length) / SECTOR) - first;
  let ms = 0;
  for (let i = 0; i < count; ) {
    const block = (first + i) % SECTORS_PER_BLOCK === 0 && count - i >= SECTORS_PER_BLOCK;
    ms += block ? CHIP_ESTIMATES.blockEraseMs : CHIP_ESTIMATES.sectorEraseMs;
    i += block ? SECTORS_PER_BLOCK : 1;
  }
  return ms;
}

function md5Ms(job: RegionJob, link: LinkEstimate): number {
  return link.commandMs + wireMs(60, link.baud) + job.length / CHIP_ESTIMATES.md5BytesPerMs;
}

/** ROM: erase all, then 1 KiB blocks, each inflated and programmed before it is answered. */
export function romWriteEstimateMs(job: RegionJob, link: LinkEstimate, blockSize: number): number {
  if (job.state === 'identical') return 0;
  const blocks = Math.max(1, Math.ceil(job.compressedLength / blockSize));
  const wire = wireMs(job.compressedLength + blocks * (BLOCK_OVERHEAD + ANSWER_BYTES) + 40, link.baud);
  const program = job.dataLength / CHIP_ESTIMATES.programBytesPerMs;
  return romEraseEstimateMs(job.offset, job.length) + wire + program + (blocks + 1) * link.commandMs + md5Ms(job, link);
}

/** Stub: 16 KiB blocks programmed while the next one travels; leading blank sectors are not erased. */
export function stubWriteEstimateMs(job: RegionJob, link: LinkEstimate, blockSize: number): number {
  if (job.state === 'identical') return 0;
  const blocks = Math.max(1, Math.ceil(job.compressedLength / blockSize));
  const wire = wireMs(job.compressedLength + blocks * (BLOCK_OVERHEAD + ANSWER_BYTES) + 40, link.baud);
  const program = job.dataLength / CHIP_ESTIMATES.programBytesPerMs;
  const lastBlockProgram = program / blocks;
  const streamed = Math.max(wire, program - lastBlockProgram) + lastBlockProgram;
  return stubEraseEstimateMs(job) + streamed + (blocks + 2) * link.commandMs + md5Ms(job, link);
}

/** Uploading and starting the stub: its bytes in RAM blocks, MEM_BEGIN / MEM_END, the greeting, SPI parameters. */
export function stubUploadEstimateMs(stub: StubEstimate, link: LinkEstimate): number {
  const blocks = Math.ceil(stub.bytes / stub.ramBlockSize) + 1;
  const commands = blocks + 4;
  return wireMs(stub.bytes + commands * (BLOCK_OVERHEAD + ANSWER_BYTES), link.baud) + commands * link.commandMs + CHIP_ESTIMATES.stubStartMs;
}

export interface ChoiceInput {
  jobs: RegionJob[];
  link: LinkEstimate;
  stub: StubEstimate;
  romBlockSize: number;
  stubBlockSize: number;
  /** Read-back verification needs the stub (the ROM reads 64 bytes per round trip). */
  needsStub: boolean;
  /** The ROM path needs the chip's begin-command layout: only for chips the station knows. */
  romPathKnown: boolean;
  stubRunning: boolean;
  /** The caller's choice ('auto': estimate). */
  prefer?: 'auto' | 'rom' | 'stub';
}

export function chooseLoader(input: ChoiceInput): LoaderChoice {
  const { jobs, link } = input;
  const romMs = jobs.reduce((ms, job) => ms + romWriteEstimateMs(job, link, input.romBlockSize), 0);
  const stubWrites = jobs.reduce((ms, job) => ms + stubWriteEstimateMs(job, link, input.stubBlockSize), 0);
  const upload = input.stubRunning || input.stub.bytes === 0 ? 0 : stubUploadEstimateMs(input.stub, link);
  const stubMs = stubWrites + upload + link.commandMs;
  const round = (n: number) => Math.round(n);
  if (input.stubRunning) return { loader: 'stub', romMs: round(romMs), stubMs: round(stubMs), reason: 'the stub is already running' };
  if (input.prefer === 'stub' && input.stub.bytes > 0) return { loader: 'stub', romMs: round(romMs), stubMs: round(stubMs), reason: 'asked for the stub' };
  if (input.prefer === 'rom' && input.romPathKnown) return { loader: 'rom', romMs: round(romMs), stubMs: round(stubMs), reason: 'asked for the ROM loader' };
  if (input.stub.bytes === 0) return { loader: 'rom', romMs: round(romMs), stubMs: round(stubMs), reason: 'no flasher stub for this chip' };
  if (input.needsStub) return { loader: 'stub', romMs: round(romMs), stubMs: round(stubMs), reason: 'read-back verification needs the stub' };
  if (!input.romPathKnown) return { loader: 'stub', romMs: round(romMs), stubMs: round(stubMs), reason: 'chip not in the station table' };
  const loader = romMs <= stubMs ? 'rom' : 'stub';
  const reason = `estimated ROM ${round(romMs)} ms vs stub ${round(stubMs)} ms`;
  return { loader, romMs: round(romMs), stubMs: round(stubMs), reason };
}
