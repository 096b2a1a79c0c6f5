// `factory-station batch --serials PROFILE --db DB`: the product's numbers in every output, the
// mistakes refused before anything is written, and a resumed run that gets the same block back
// (the journal lost its tail: the run is replayed from a journal holding only its first identities).
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOMEKIT_PARTITION_CSV } from '../../src-main/station/profile-file.ts';
import { openRegistry, type Registry } from '../../src-main/registry/index.ts';
import { listFiles, readMaster, runBatch, tempDir } from './helpers.ts';

function product(dir: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(dir, 'partitions.csv'), HOMEKIT_PARTITION_CSV);
  writeFileSync(join(dir, 'fan.json'), JSON.stringify({
    schema: 1, id: 'fan', productName: 'Fan', category: 3, nvs: { size: '0x6000' }, firmware: { partitionTable: 'partitions.csv' },
    serial: { format: 'F{counter}', digits: 4, nvs: { namespace: 'app', key: 'serial_no' } }, label: { size: '40x30' }, ...extra,
  }));
  void openRegistry(join(dir, 'station.db')).close();
}

const ARGS = ['--prefix', 'Fan', '--cid', '3', '--size', '0x6000', '--db', 'station.db', '--serials', 'fan.json', '--labels', 'none'];

describe('batch --serials', () => {
  it.each([
    [['--prefix', 'Fan', '--count', '2', '--cid', '3', '--size', '0x6000', '--serials', 'fan.json'], 2, /--serials needs --db/],
    [[...ARGS, '--count', '2', '--cid', '5'], 1, /--serials fan\.json: the product is category 3, the batch --cid 5/],
    [[...ARGS.map((a) => (a === 'fan.json' ? 'missing.json' : a)), '--count', '2'], 1, /--serials|missing\.json: cannot read the product profile/],
  ])('refuses %j before anything is written', async (args, code, message) => {
    const dir = tempDir('serials-bad');
    product(dir);
    const r = await runBatch(dir, [...args, '--outdir', 'out']);
    expect(r.code).toBe(code);
    expect(r.err.split('\n')[0]).toMatch(message);
    expect(readdirSync(dir)).not.toContain('out');
  });

  it('refuses a --conf that writes the serial number itself, naming its line', async () => {
    const dir = tempDir('serials-conf');
    product(dir);
    writeFileSync(join(dir, 'conf.csv'), 'app,namespace,\nserial_no,data,string\n');
    writeFileSync(join(dir, 'values.csv'), 'id,serial_no\n1,X1\n');
    const r = await runBatch(dir, [...ARGS, '--conf', 'conf.csv', '--values', 'values.csv', '--outdir', 'out']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/conf\.csv, line 2: `serial_no` in namespace `app` is the serial number the batch writes/);
  });

  it('a resumed run gets the block its run took: same numbers, none taken twice, the counter moved once', async () => {
    const dir = tempDir('serials-resume');
    product(dir);
    const first = await runBatch(dir, [...ARGS, '--count', '20', '--outdir', 'out']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const journalName = readdirSync(join(dir, 'out')).find((f) => f.endsWith('.journal'))!;
    const lines = readFileSync(join(dir, 'out', journalName), 'utf8').trimEnd().split('\n');
    const master = readMaster(join(dir, 'out', readdirSync(join(dir, 'out')).find((f) => f.startsWith('homekit_values_'))!));
    const numbers = master.rows.map((r) => r.at(-1));
    expect(master.header.at(-1)).toBe('serial_number');
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => `F${String(i + 1).padStart(4, '0')}`));

    // The same run, its journal cut after its first five identities (nothing else survived).
    mkdirSync(join(dir, 'again'));
    writeFileSync(join(dir, 'again', journalName), `${lines.filter((l) => /"type":"(run|identity)"/.test(l)).slice(0, 6).join('\n')}\n`);
    const resumed = await runBatch(dir, ['--resume', '--outdir', 'again', '--db', 'station.db']);
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const again = readMaster(join(dir, 'again', listFiles(join(dir, 'again')).find((f) => f.startsWith('homekit_values_'))!));
    expect(again.rows.map((r) => r.at(-1))).toEqual(numbers);
    const raw = new Database(join(dir, 'station.db'), { readonly: true });
    try {
      expect(raw.prepare("SELECT next FROM serial_counters WHERE product = 'fan'").get()).toEqual({ next: 21 });
      expect(raw.prepare("SELECT COUNT(*) AS n FROM used_serials WHERE product = 'fan'").get()).toEqual({ n: 20 });
    } finally {
      raw.close();
    }
  });
});
