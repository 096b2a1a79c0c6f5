// The journal is replayed from the file line by line (a million-accessory journal is larger than
// the longest string V8 allows): same state whatever the read size, torn tail cut at the right
// byte, and damage reported with the journal's name and line.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOURNAL_FORMAT, JOURNAL_VERSION, JournalError, type JournalRecord, type JournalRunRecord } from '../../shared/batch/journal.ts';
import { findJournals, JournalWriter, replayJournalFile } from '../../src-main/batch/journal-file.ts';
import { tempDir } from './helpers.ts';

const run: JournalRunRecord = {
  type: 'run',
  format: JOURNAL_FORMAT,
  version: JOURNAL_VERSION,
  runId: '20261204-190000-00aabbcc',
  createdAt: '2026-12-04T19:00:00.000Z',
  settings: {
    prefix: 'Lampe',
    category: 5,
    count: 4,
    fileid: 'serial',
    size: 0x6000,
    version: 2,
    payloadFlags: { ip: true, ble: false, wac: false },
    encrypt: false,
    keygen: false,
    labels: { mode: 'none', format: 'pdf', paper: 'A4', size: '30x30' },
    // multi-byte text, so characters and bytes differ
    values: { file: 'werte.csv', text: 'serial,name\nA1,Küchenlampe ☀\nA2,台所\nA3,x\nA4,y\n' },
  },
  masters: { config: 'homekit_config.csv', values: 'homekit_werte.csv', manifest: 'homekit_manifest.json' },
};
const identity = (index: number): JournalRecord => ({ type: 'identity', index, setupCode: `1012233${index}`, setupId: `Z${index}AB`, salt: String(index).repeat(32) });
const done = (index: number): JournalRecord => ({ type: 'done', index, name: `Lampe-A${index + 1}`, verifier: 'ab'.repeat(384), payload: 'X-HM://0023ISYWY1A2B' });
const lines = (records: JournalRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('journal replay from the file', () => {
  const complete = lines([run, identity(0), identity(1), done(0), identity(2), done(1)]);
  const torn = `${JSON.stringify(done(2)).slice(0, 40)}…ü`; // killed mid-write, no newline

  for (const chunk of [5, 64, 1000, 1 << 22]) {
    it(`same state with ${chunk}-byte reads; the torn tail is not counted`, async () => {
      const dir = tempDir('journal');
      const path = join(dir, 'homekit_batch_x.journal');
      writeFileSync(path, complete + torn);
      const state = await replayJournalFile(path, 'homekit_batch_x.journal', chunk);
      expect(state.run).toEqual(run);
      expect([...state.identities.keys()]).toEqual([0, 1, 2]);
      expect(state.identities.get(2)).toEqual(identity(2));
      expect([...state.done.keys()]).toEqual([0, 1]);
      expect(state.complete).toBeUndefined();
      expect(state.validLength).toBe(Buffer.byteLength(complete, 'utf8'));
    });
  }

  it('--resume cuts the torn tail at that byte and appends after it', async () => {
    const dir = tempDir('journal');
    writeFileSync(join(dir, 'homekit_batch_y.journal'), complete + torn);
    const [found] = await findJournals(dir);
    const writer = await JournalWriter.reopen(found!.path, found!.validBytes);
    await writer.appendDurable([done(2)]);
    await writer.close();
    expect(readFileSync(found!.path, 'utf8')).toBe(complete + lines([done(2)]));
    const again = await replayJournalFile(found!.path, found!.name, 7);
    expect([...again.done.keys()]).toEqual([0, 1, 2]);
  });

  const damaged: [string, string, RegExp][] = [
    ['a line that is not JSON', lines([run, identity(0)]) + '{"type":"identity",\n', /j\.journal line 3: not a JSON record; the journal is damaged/],
    ['a JSON line that is not a record', lines([run]) + 'null\n', /j\.journal line 2: unknown record type undefined/],
    ['a journal of something else', '{"type":"run","format":"other"}\n', /j\.journal line 1: not a factory-station batch journal/],
    ['two identities for one accessory', lines([run, identity(1), identity(1)]), /line 3: unit 1 has two identities/],
    ['a setup code issued twice', lines([run, identity(1), { ...identity(2), setupCode: '10122331' } as JournalRecord]), /line 3: unit 2 repeats the setup code of another unit/],
    ['an index beyond the count', lines([run, identity(9)]), /line 2: unit index 9 out of range/],
    ['done without an identity', lines([run, done(3)]), /line 2: unit 3 is done but has no identity/],
    ['a record after completion', lines([run, { type: 'complete', completedAt: 'x', units: 4, files: [] }, identity(0)]), /line 3: record after the completion record/],
    ['nothing but a torn first line', '{"type":"ru', /j\.journal: empty journal/],
  ];
  for (const [name, text, message] of damaged) {
    it(`refuses ${name}, naming the line`, async () => {
      const dir = tempDir('journal');
      const path = join(dir, 'j.journal');
      writeFileSync(path, text);
      const err = await replayJournalFile(path, 'j.journal', 16).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JournalError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('after a failed append (disk full mid-line) nothing more is written: the fragment stays a torn tail', async () => {
    const dir = tempDir('journal');
    const path = join(dir, 'homekit_batch_z.journal');
    const writer = await JournalWriter.create(path, run);
    await writer.appendDurable([identity(0)]);
    // The disk fills up halfway through the next append.
    const handle = (writer as unknown as { handle: { appendFile(text: string): Promise<void> } }).handle;
    const realAppend = handle.appendFile.bind(handle);
    handle.appendFile = async (text: string) => {
      await realAppend(text.slice(0, Math.floor(text.length / 2)));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    await expect(writer.appendDurable([identity(1)])).rejects.toThrow(`${path}: no space left on device`);
    handle.appendFile = realAppend; // space is back: still nothing may be written after the fragment
    writer.append(done(0));
    await expect(writer.flush()).rejects.toThrow('no space left on device');
    await writer.close();
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(lines([run, identity(0)]))).toBe(true);
    expect(text.endsWith('\n')).toBe(false);
    const state = await replayJournalFile(path, 'homekit_batch_z.journal');
    expect([...state.identities.keys()]).toEqual([0]);
    expect(state.done.size).toBe(0);
    expect(state.validLength).toBe(Buffer.byteLength(lines([run, identity(0)])));
  });
});
