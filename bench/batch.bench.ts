// `npm run bench batch`: accessories per second of `factory-station batch`, in process and as the
// real command. Absolute figures only: no reference tool is measured in this run, so none is quoted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src-main/cli/io.ts';
import { parseBatchArgs, type GenerateArgs } from '../src-main/cli/batch-args.ts';
import { runNewBatch } from '../src-main/batch/run.ts';

const COUNT = 1000;

// Every run writes into a fresh folder under one root that is removed only at the end: on ext4,
// creating files right after deleting thousands of others is several times slower (the inode
// allocator skips recently freed inodes), which would make each run pay for the one before.
let root = '';
const freshDir = () => mkdtempSync(join(root, 'run-'));

async function inProcess(labels: string): Promise<number> {
  const dir = freshDir();
  const args = parseBatchArgs(['--prefix', 'Fan', '--count', String(COUNT), '--cid', '3', '--size', '0x3000', '--outdir', 'out', '--labels', labels]) as GenerateArgs & { mode: 'generate' };
  const t = performance.now();
  const s = await runNewBatch(args, memoryIO(dir));
  const ms = performance.now() - t;
  const rate = COUNT / (ms / 1000);
  console.log(
    `in-process, --labels ${labels}: ${COUNT} accessories in ${ms.toFixed(0)} ms = ${rate.toFixed(0)}/s; ` +
      `accessories ${s.timings.unitsMs.toFixed(0)} ms, ` +
      `masters/labels/manifest ${s.timings.finishMs.toFixed(0)} ms; built by coordinator ${s.lanes.inline}, ${s.lanes.workerThreads} worker(s) ${s.lanes.workers}`,
  );
  return rate;
}

/** The CLI as an operator runs it; `dir` (default: under the bench root) receives the output. */
function viaBin(dir = freshDir(), where = ''): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'factory-station'), 'batch', '--prefix', 'Fan', '--count', String(COUNT), '--cid', '3', '--size', '0x3000', '--outdir', 'out', '--labels', 'none'], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`bin failed: ${r.stderr}`);
  const rate = COUNT / (ms / 1000);
  console.log(`real bin (process start included)${where}, --labels none: ${ms.toFixed(0)} ms = ${rate.toFixed(0)}/s`);
  return rate;
}

export async function bench(): Promise<void> {
  root = mkdtempSync(join(tmpdir(), 'bench-batch-'));
  try {
    // The machine is shared and its disk latency varies a lot: several runs, best and median shown.
    summary('in-process, --labels none', await repeat(5, () => inProcess('none')));
    summary('real bin, --labels none', await repeat(3, async () => viaBin()));
    // The same on tmpfs: what is left when the disk's file-creation cost is taken away (on this
    // VM's journal-less ext4, creating a file costs 40–250 µs depending on recent deletions).
    const shm = tmpfsRoot();
    if (shm) {
      try {
        summary('real bin, output on tmpfs', await repeat(3, async () => viaBin(mkdtempSync(join(shm, 'run-')), ' on tmpfs')));
      } finally {
        rmSync(shm, { recursive: true, force: true });
      }
    }
    await inProcess('sheet');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function tmpfsRoot(): string | undefined {
  try {
    return mkdtempSync('/dev/shm/bench-batch-');
  } catch {
    return undefined; // no /dev/shm here
  }
}

async function repeat(n: number, run: () => Promise<number>): Promise<number[]> {
  const rates: number[] = [];
  for (let i = 0; i < n; i++) rates.push(await run());
  return rates.sort((a, b) => a - b);
}

function summary(what: string, sorted: number[]): void {
  const best = sorted.at(-1)!;
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`=> ${what}: median ${median.toFixed(0)}/s, best ${best.toFixed(0)}/s`);
}
