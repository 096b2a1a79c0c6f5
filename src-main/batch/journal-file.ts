// The journal on disk: created exclusively, appended to, and made durable (fdatasync) exactly
// where the batch's guarantees need it — before any file of a newly issued identity is written.
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { constants, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileWriteError } from '../fs/index.ts';
import { journalLine, JournalReplay, type JournalRecord, type JournalState } from '../../shared/batch/journal.ts';

const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

export const JOURNAL_PATTERN = /^homekit_batch_.+\.journal$/;

export class JournalWriter {
  private buffered = '';
  /**
   * The first failed write. A failed append may have left part of a line behind; anything written
   * after it would glue onto that fragment and damage the journal. So the writer stops there, and
   * the fragment stays the torn tail that --resume cuts off.
   */
  private failure: Error | undefined;

  private constructor(private readonly handle: FileHandle, readonly path: string) {}

  /** Creates the journal (fails if the name exists) with its run record, durably. */
  static async create(path: string, first: JournalRecord): Promise<JournalWriter> {
    const handle = await open(path, 'ax', 0o600);
    const w = new JournalWriter(handle, path);
    await w.appendDurable([first]);
    syncDirectory(join(path, '..'));
    return w;
  }

  /** Opens an existing journal for appending, cutting off a torn last line first. */
  static async reopen(path: string, validBytes: number): Promise<JournalWriter> {
    // Never through a symlink planted at the journal's name (O_NOFOLLOW where the platform has it).
    const cut = await open(path, constants.O_RDWR | NO_FOLLOW);
    try {
      await cut.truncate(validBytes);
      await cut.datasync();
    } finally {
      await cut.close();
    }
    // Append mode: every write lands at the end, whatever the file position.
    return new JournalWriter(await open(path, constants.O_WRONLY | constants.O_APPEND | NO_FOLLOW), path);
  }

  /** Appends records and waits until they are on stable storage. */
  async appendDurable(records: readonly JournalRecord[]): Promise<void> {
    this.buffered += records.map(journalLine).join('');
    await this.flush();
    await this.guard(this.handle.datasync());
  }

  /** Appends records lazily (written with the next flush or durable append). */
  append(record: JournalRecord): void {
    this.buffered += journalLine(record);
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.buffered) return;
    const text = this.buffered;
    this.buffered = '';
    await this.guard(this.handle.appendFile(text));
  }

  /** Writes what is buffered (unless a write already failed) and closes the file. */
  async close(): Promise<void> {
    try {
      if (!this.failure) await this.flush();
    } finally {
      await this.handle.close();
    }
  }

  private async guard(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      this.failure ??= fileWriteError(this.path, err);
      throw this.failure;
    }
  }
}

/** Makes a directory entry (a new file's name) durable. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported everywhere (e.g. Windows); the file itself is synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface FoundJournal {
  path: string;
  name: string;
  state: JournalState;
  /** Bytes of the complete lines (what to truncate to before appending). */
  validBytes: number;
}

/** Every batch journal in `dir`, replayed. */
export async function findJournals(dir: string): Promise<FoundJournal[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: FoundJournal[] = [];
  for (const name of names.filter((n) => JOURNAL_PATTERN.test(n)).sort()) {
    const path = join(dir, name);
    const state = await replayJournalFile(path, name);
    out.push({ path, name, state, validBytes: state.validLength });
  }
  return out;
}

/** Bytes read at a time while replaying a journal. */
const READ_CHUNK = 1 << 22;

/** Replays a journal file line by line (never the whole file as one string); validLength in bytes. */
export async function replayJournalFile(path: string, name: string, chunkSize = READ_CHUNK): Promise<JournalState> {
  const replay = new JournalReplay(name);
  const decoder = new TextDecoder();
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(chunkSize);
    let carry = Buffer.alloc(0); // the start of a line that continues in the next chunk
    let position = 0;
    let validBytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
        replay.add(decoder.decode(data.subarray(start, nl)));
        start = nl + 1;
      }
      validBytes += start;
      carry = Buffer.from(data.subarray(start)); // a copy: `chunk` is reused
    }
    return replay.finish(validBytes);
  } finally {
    await handle.close();
  }
}
