// The journal on disk: created exclusively, appended to, and made durable (fdatasync) exactly
// where the batch's guarantees need it — before any file of a newly issued identity is written.
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { journalLine, readJournal, type JournalRecord, type JournalState } from '../../shared/batch/journal.ts';

export const JOURNAL_PATTERN = /^homekit_batch_.+\.journal$/;

export class JournalWriter {
  private buffered = '';

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
    const cut = await open(path, 'r+');
    try {
      await cut.truncate(validBytes);
      await cut.datasync();
    } finally {
      await cut.close();
    }
    // Append mode: every write lands at the end, whatever the file position.
    return new JournalWriter(await open(path, 'a'), path);
  }

  /** Appends records and waits until they are on stable storage. */
  async appendDurable(records: readonly JournalRecord[]): Promise<void> {
    this.buffered += records.map(journalLine).join('');
    await this.flush();
    await this.handle.datasync();
  }

  /** Appends records lazily (written with the next flush or durable append). */
  append(record: JournalRecord): void {
    this.buffered += journalLine(record);
  }

  async flush(): Promise<void> {
    if (!this.buffered) return;
    const text = this.buffered;
    this.buffered = '';
    await this.handle.appendFile(text);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
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
  /** Bytes of `state.validLength` characters (what to truncate to). */
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
    const text = await readFile(path, 'utf8');
    const state = readJournal(text, name);
    out.push({ path, name, state, validBytes: Buffer.byteLength(text.slice(0, state.validLength), 'utf8') });
  }
  return out;
}
