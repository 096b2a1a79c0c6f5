// The batch journal: an append-only JSON Lines file in the output folder that makes a batch
// resumable and auditable. Order of events for each accessory:
//
//   1. `identity` record appended and fsync'ed   — the identity now exists, it is never redrawn;
//   2. its files written (each atomically: temp file + rename);
//   3. `done` record appended (no fsync needed: a lost `done` only means the files are rebuilt,
//      byte-identical, from the journaled identity).
//
// The first line is the `run` record (all settings and the input files' text, so `--resume`
// needs nothing but the folder); the last is `complete` once the master files, labels and
// manifest exist. A torn last line (the process died mid-write) is ignored: a record only counts
// once its newline is on disk, and no file of an accessory is written before its identity counts.
//
// The journal holds setup codes: it is as secret as the values master (file mode 0600).
import type { BatchIdentity } from './unit.ts';
import type { SerialScheme } from '../station/serial.ts';
import { fromHex, toHex } from './unit.ts';

export const JOURNAL_FORMAT = 'factory-station-batch-journal';
export const JOURNAL_VERSION = 1;

export type LabelMode = 'sheet' | 'single' | 'both' | 'none';

/** Everything that determines a batch's output (replayed by --resume). */
export interface BatchSettings {
  prefix: string;
  category: number;
  /** Number of accessories (values rows in custom-data mode). */
  count: number;
  /** Column naming the files: `setup_code` (default), `setup_id` or a values column. */
  fileid: string;
  size: number;
  version: 1 | 2;
  productData?: string;
  payloadFlags: { ip: boolean; ble: boolean; wac: boolean };
  encrypt: boolean;
  /** One random key per accessory, written to keys/<name>-keys.bin. */
  keygen: boolean;
  /** `--keyfile` (one key for all accessories): path as given and SHA-256 of its content. */
  keyfile?: { path: string; sha256: string };
  labels: { mode: LabelMode; format: 'pdf' | 'svg'; paper: 'A4' | 'Letter'; size: string };
  /** Custom data inputs, verbatim. */
  config?: { file: string; text: string };
  values?: { file: string; text: string };
  /**
   * Serial numbers (`--serials PROFILE`): the product whose counter they come from (a block per run,
   * taken from the `--db` station database) and its scheme, as the profile said at the start.
   */
  serial?: { product: string; profile: string; scheme: SerialScheme };
}

export interface JournalRunRecord {
  type: 'run';
  format: typeof JOURNAL_FORMAT;
  version: typeof JOURNAL_VERSION;
  runId: string;
  createdAt: string;
  settings: BatchSettings;
  /** Names chosen for the files written at the end (relative to the output folder). */
  masters: { config: string; values: string; manifest: string; labels?: string };
}

export interface JournalIdentityRecord {
  type: 'identity';
  index: number;
  /** 8 digits. */
  setupCode: string;
  setupId: string;
  /** 32 hex digits. */
  salt: string;
  /** 128 hex digits: this accessory's NVS encryption key (--keygen only). */
  nvsKey?: string;
  /** Its serial number (batches with serial numbers). */
  serial?: string;
}

export interface JournalDoneRecord {
  type: 'done';
  index: number;
  /** `<prefix>-<fileid value>`: base name of the accessory's files. */
  name: string;
  /** 768 hex digits (kept so a resumed run can write the values master without recomputing). */
  verifier: string;
  payload: string;
}

export interface JournalCompleteRecord {
  type: 'complete';
  completedAt: string;
  units: number;
  /** Files written at the end, relative to the output folder. */
  files: string[];
}

export type JournalRecord = JournalRunRecord | JournalIdentityRecord | JournalDoneRecord | JournalCompleteRecord;

export function journalLine(record: JournalRecord): string {
  return `${JSON.stringify(record)}\n`;
}

export function identityRecord(identity: BatchIdentity, nvsKey?: Uint8Array): JournalIdentityRecord {
  const r: JournalIdentityRecord = { type: 'identity', index: identity.index, setupCode: identity.setupCode, setupId: identity.setupId, salt: toHex(identity.salt) };
  if (nvsKey) r.nvsKey = toHex(nvsKey);
  if (identity.serial !== undefined) r.serial = identity.serial;
  return r;
}

export function identityFromRecord(r: JournalIdentityRecord): BatchIdentity {
  const identity: BatchIdentity = { index: r.index, setupCode: r.setupCode, setupId: r.setupId, salt: fromHex(r.salt) };
  if (r.serial !== undefined) identity.serial = r.serial;
  return identity;
}

export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalError';
  }
}

export interface JournalState {
  run: JournalRunRecord;
  /** By batch index. */
  identities: Map<number, JournalIdentityRecord>;
  done: Map<number, JournalDoneRecord>;
  complete?: JournalCompleteRecord;
  /** Length of the complete lines (bytes, for a journal file); a torn tail beyond it is cut off before appending. */
  validLength: number;
}

/**
 * Replays a journal line by line, checking it is consistent (one identity per index, no duplicate
 * code or ID). Fed one line at a time, so a journal never has to be one string in memory (a
 * million-accessory journal is larger than the longest string V8 allows).
 */
export class JournalReplay {
  private run: JournalRunRecord | undefined;
  private readonly identities = new Map<number, JournalIdentityRecord>();
  private readonly done = new Map<number, JournalDoneRecord>();
  private readonly codes = new Set<string>();
  private readonly ids = new Set<string>();
  private readonly serials = new Set<string>();
  private complete: JournalCompleteRecord | undefined;
  private lineNo = 0;

  constructor(private readonly name = 'journal') {}

  /** One complete line, without its newline. */
  add(line: string): void {
    this.lineNo++;
    let rec: JournalRecord;
    try {
      rec = JSON.parse(line) as JournalRecord;
    } catch {
      throw new JournalError(`${this.name} line ${this.lineNo}: not a JSON record; the journal is damaged`);
    }
    const bad = (why: string) => new JournalError(`${this.name} line ${this.lineNo}: ${why}`);
    if (this.lineNo === 1) {
      if (rec?.type !== 'run' || rec.format !== JOURNAL_FORMAT) throw bad('not a factory-station batch journal');
      if (rec.version !== JOURNAL_VERSION) throw bad(`journal version ${String(rec.version)} is not supported (expected ${JOURNAL_VERSION})`);
      this.run = rec;
      return;
    }
    if (this.complete) throw bad('record after the completion record');
    switch (rec?.type) {
      case 'identity': {
        if (!Number.isInteger(rec.index) || rec.index < 0 || rec.index >= this.run!.settings.count) throw bad(`unit index ${rec.index} out of range`);
        if (this.identities.has(rec.index)) throw bad(`unit ${rec.index} has two identities`);
        if (this.codes.has(rec.setupCode)) throw bad(`unit ${rec.index} repeats the setup code of another unit`);
        if (this.ids.has(rec.setupId)) throw bad(`unit ${rec.index} repeats setup ID ${rec.setupId}`);
        if (typeof rec.salt !== 'string' || !/^[0-9a-f]{32}$/.test(rec.salt)) throw bad(`unit ${rec.index} has a malformed salt`);
        if ((rec.serial !== undefined) !== (this.run!.settings.serial !== undefined)) throw bad(`unit ${rec.index} ${rec.serial === undefined ? 'lacks' : 'has'} a serial number, unlike its batch`);
        if (rec.serial !== undefined && this.serials.has(rec.serial)) throw bad(`unit ${rec.index} repeats serial number ${rec.serial}`);
        if (rec.serial !== undefined) this.serials.add(rec.serial);
        this.codes.add(rec.setupCode);
        this.ids.add(rec.setupId);
        this.identities.set(rec.index, rec);
        return;
      }
      case 'done':
        if (!this.identities.has(rec.index)) throw bad(`unit ${rec.index} is done but has no identity`);
        this.done.set(rec.index, rec);
        return;
      case 'complete':
        this.complete = rec;
        return;
      default:
        throw bad(`unknown record type ${JSON.stringify((rec as { type?: unknown } | null)?.type)}`);
    }
  }

  /** The state after the lines added so far; `validLength` is the caller's measure of them. */
  finish(validLength: number): JournalState {
    if (!this.run) throw new JournalError(`${this.name}: empty journal (the run record was never written)`);
    const state: JournalState = { run: this.run, identities: this.identities, done: this.done, validLength };
    if (this.complete) state.complete = this.complete;
    return state;
  }
}
