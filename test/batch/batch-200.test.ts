// Acceptance: a 200-accessory batch, checked only with independent means — the NVS reader, an
// independent SRP client (fast-srp-hap) for every accessory, a hand-written payload computation,
// and poppler + jsQR on the label sheet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readNvsImage, findBlob } from '../../shared/nvs/reader.ts';
import { pairSetup, useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { rasterisePdf, crop, decodeQr } from '../label/raster.ts';
import { listFiles, readMaster, runBatch, tempDir } from './helpers.ts';

const COUNT = 200;
const FORBIDDEN = ['00000000', '11111111', '22222222', '33333333', '44444444', '55555555', '66666666', '77777777', '88888888', '99999999', '12345678', '87654321'];

/** Independent payload computation from spec §7 (IP + WAC, no product data). */
function expectedPayload(category: number, code: string, setupId: string): string {
  const value = BigInt(code) | (1n << 28n) | (1n << 30n) | (BigInt(category) << 31n);
  return `X-HM://${value.toString(36).toUpperCase().padStart(9, '0')}${setupId}`;
}

let dir: string;
let out: string;
let files: string[];
let master: { header: string[]; rows: string[][] };

beforeAll(async () => {
  dir = tempDir('200');
  const r = await runBatch(dir, ['--prefix', 'Lamp', '--count', String(COUNT), '--cid', '5', '--size', '0x6000', '--outdir', 'out', '--labels', 'sheet', '--paper', 'A4', '--label-size', '40x30']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  out = join(dir, 'out');
  files = listFiles(out);
  const values = files.find((f) => /^homekit_values_.*\.csv$/.test(f))!;
  master = readMaster(join(out, values));
}, 240_000);

describe('200-accessory batch', () => {
  it('writes one csv, bin and txt per accessory, named by the setup code', () => {
    expect(master.rows).toHaveLength(COUNT);
    for (const [, code] of master.rows) {
      for (const f of [`csv/Lamp-${code}.csv`, `bin/Lamp-${code}.bin`, `homekit_setup_info/Lamp-${code}.txt`]) expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('bin/'))).toHaveLength(COUNT);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('issues unique codes and IDs from the allowed sets', () => {
    const codes = master.rows.map((r) => r[1]!);
    const ids = master.rows.map((r) => r[0]!);
    expect(new Set(codes).size).toBe(COUNT);
    expect(new Set(ids).size).toBe(COUNT);
    for (const c of codes) {
      expect(c).toMatch(/^\d{3}-\d{2}-\d{3}$/);
      expect(FORBIDDEN).not.toContain(c.replace(/-/g, ''));
    }
    for (const id of ids) expect(id).toMatch(/^[0-9A-Z]{4}$/);
  });

  it('every image parses without problems and holds the master row’s setup data', () => {
    for (const [id, code, salt, verifier] of master.rows) {
      const image = readNvsImage(new Uint8Array(readFileSync(join(out, 'bin', `Lamp-${code}.bin`))));
      expect(image.problems).toEqual([]);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_id')!).toString()).toBe(id);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_salt')!).toString('hex')).toBe(salt);
      expect(Buffer.from(findBlob(image, 'hap_setup', 'setup_verifier')!).toString('hex')).toBe(verifier);
    }
  });

  it('every verifier pairs with its code (fast-srp-hap), and not with another code', () => {
    useOpenSslModPow();
    for (const [, code, salt, verifier] of master.rows) {
      const txt = readFileSync(join(out, 'homekit_setup_info', `Lamp-${code}.txt`), 'utf8');
      const typed = /^Setup Code: (\d{3}-\d{2}-\d{3})\n/.exec(txt)![1]!;
      expect(pairSetup(Buffer.from(salt!, 'hex'), Buffer.from(verifier!, 'hex'), typed)).toEqual({ ok: true });
    }
    const [, code, salt, verifier] = master.rows[0]!;
    const wrong = code === '101-01-010' ? '101-01-011' : '101-01-010';
    expect(pairSetup(Buffer.from(salt!, 'hex'), Buffer.from(verifier!, 'hex'), wrong).ok).toBe(false);
  }, 240_000);

  it('every payload equals the recomputation, in the master and the .txt', () => {
    for (const [id, code, , , payload] of master.rows) {
      const expected = expectedPayload(5, code!.replace(/-/g, ''), id!);
      expect(payload).toBe(expected);
      expect(readFileSync(join(out, 'homekit_setup_info', `Lamp-${code}.txt`), 'utf8')).toBe(`Setup Code: ${code}\nSetup Payload: ${expected}\n`);
    }
  });

  it('every label on the sheet decodes to its payload, in batch order', () => {
    const sheet = files.find((f) => /^homekit_labels_.*_A4\.pdf$/.test(f))!;
    const pages = rasterisePdf(new Uint8Array(readFileSync(join(out, sheet))), 150);
    // 40×30 mm labels on A4 with 10 mm margins and 2 mm gaps: 4 columns × 8 rows.
    expect(pages).toHaveLength(Math.ceil(COUNT / 32));
    const mm = 150 / 25.4;
    const decodeAt = (index: number) => {
      const page = pages[Math.floor(index / 32)]!;
      const cell = index % 32;
      const x = 10 + (cell % 4) * 42;
      const y = 10 + Math.floor(cell / 4) * 32;
      return decodeQr(crop(page, x * mm, y * mm, 40 * mm, 30 * mm));
    };
    for (let index = 0; index < COUNT; index++) {
      expect(decodeAt(index)).toBe(master.rows[index]![4]);
    }
  }, 180_000);

  it('journal is complete and matches the files', () => {
    const journal = files.find((f) => f.endsWith('.journal'))!;
    const records = readFileSync(join(out, journal), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records[0].type).toBe('run');
    expect(records.at(-1).type).toBe('complete');
    const identities = records.filter((r) => r.type === 'identity');
    expect(identities).toHaveLength(COUNT);
    const byIndex = new Map(identities.map((r) => [r.index, r]));
    master.rows.forEach(([id, code, salt], i) => {
      const rec = byIndex.get(i)!;
      expect([rec.setupId, `${rec.setupCode.slice(0, 3)}-${rec.setupCode.slice(3, 5)}-${rec.setupCode.slice(5)}`, rec.salt]).toEqual([id, code, salt]);
    });
  });
});
