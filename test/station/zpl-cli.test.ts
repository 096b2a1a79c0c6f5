// The command line with a ZPL label printer (a fake one on 127.0.0.1): `provision --printer
// zpl://…` prints and waits for the printer; a printer problem leaves the unit "label pending"
// (exit 4) until `label --unit N --printer …` prints it once; `label --zpl` writes the ZPL
// (mode 0600) without touching the unit; bad input is one line and a non-zero exit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO, runCommand } from '../../src-main/cli/io.ts';
import { main } from '../../src-main/cli/factory-station.ts';
import { createDemoProfile } from '../../src-main/station/profile-file.ts';
import { openRegistry } from '../../src-main/registry/index.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import { useOpenSslModPow } from '../homekit/helpers/fast-srp.ts';
import { FakeZplPrinter } from '../label/fake-zpl-printer.ts';
import { readZpl } from '../label/zpl-reader.ts';
import { randomMac } from './helpers.ts';

let printer: FakeZplPrinter;
let dir: string;
beforeAll(async () => {
  useOpenSslModPow();
  printer = await FakeZplPrinter.start();
  dir = mkdtempSync(join(tmpdir(), 'hkfs-zplcli-'));
  await createDemoProfile(dir);
});
afterAll(() => printer.close());

async function cli(args: string[]) {
  const io = memoryIO(dir);
  const code = await runCommand(io, () => main(args, io));
  return { code, out: io.out, err: io.err };
}

async function provision(extra: string[]) {
  const mac = randomMac();
  const state = `chip-${mac.replace(/:/g, '')}.json`;
  writeFileSync(join(dir, state), JSON.stringify({ chip: 'esp32c3', mac }));
  const r = await cli(['provision', '--profile', 'demo-profile.json', '--port', 'virtual:esp32c3', '--virtual-state', state, '--db', 'st.db', '--init-db', '--label-out', 'lab', ...extra]);
  const db = openRegistry(join(dir, 'st.db'));
  const unit = (await db.findByMac('demo-smart-plug', mac))!;
  await db.close();
  return { ...r, mac, unit };
}

async function unitNow(id: number) {
  const db = openRegistry(join(dir, 'st.db'));
  try {
    return (await db.getUnit(id))!;
  } finally {
    await db.close();
  }
}

describe('factory-station provision --printer / label', () => {
  it('provision --printer prints the label and the unit is done once the printer confirms it', async () => {
    const before = printer.printed.length;
    const r = await provision(['--printer', printer.url]);
    expect(r.code, r.err).toBe(0);
    await printer.settled();
    expect(printer.printed.length - before).toBe(1);
    const fields = readZpl(printer.printed.at(-1)!).fields;
    expect(fields.find((f) => f.qr)!.data).toBe(`MM,A${r.unit.payload}`);
    expect(fields.map((f) => f.text)).toContain(formatSetupCode(r.unit.setupCode));
    expect(await unitNow(r.unit.id)).toMatchObject({ status: 'done', labelPrintCount: 1 });
    expect(r.out).toContain(`Printed on 127.0.0.1:${printer.port} (ZPL)`);
    expect(r.out + r.err).not.toContain(r.unit.setupCode);
  });

  it('paper out: exit 4, the unit stays label pending; `label --printer` prints it once after the roll is changed', async () => {
    printer.state.paperOut = true;
    printer.state.paused = true;
    const before = printer.printed.length;
    const r = await provision(['--printer', printer.url, '--json']);
    expect(r.code).toBe(4);
    const body = JSON.parse(r.out);
    expect(body).toMatchObject({ ok: true, printed: { status: 'failed', message: expect.stringMatching(/is out of labels: load a new roll.*Nothing was printed\. The unit stays "label pending"/) } });
    expect(await unitNow(r.unit.id)).toMatchObject({ status: 'label-pending', labelPrintCount: 0 });
    const human = await cli(['label', '--unit', String(r.unit.id), '--printer', printer.url, '--db', 'st.db']);
    expect(human.code).toBe(1);
    expect(human.err).toMatch(/^label: not printed: The label printer at 127\.0\.0\.1:\d+ is out of labels/);
    expect(human.err.trim().split('\n')).toHaveLength(1);

    printer.recover();
    const again = await cli(['label', '--mac', r.mac.replace(/:/g, '-').toUpperCase(), '--printer', printer.url, '--db', 'st.db']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('unit done');
    await printer.settled();
    expect(printer.printed.length - before).toBe(1);
    expect(readZpl(printer.printed.at(-1)!).fields.find((f) => f.qr)!.data).toBe(`MM,A${r.unit.payload}`);
    expect(await unitNow(r.unit.id)).toMatchObject({ status: 'done', labelPrintCount: 1 });
    const db = openRegistry(join(dir, 'st.db'));
    const prints = await db.attempts.list({ unitId: r.unit.id, kind: 'print' });
    await db.close();
    expect(prints.map((a) => a.outcome)).toEqual(['ok', 'failed', 'failed']);
  });

  it('label --zpl writes the ZPL (mode 0600) in the unit\'s own label settings, without printing or recording anything', async () => {
    const r = await provision([]);
    expect(r.code, r.err).toBe(0);
    const printsBefore = (await unitNow(r.unit.id)).labelPrintCount; // the PDF written by provision counts as one
    const out = await cli(['label', '--unit', String(r.unit.id), '--zpl', 'out/unit.zpl', '--dpi', '300', '--db', 'st.db']);
    expect(out.code, out.err).toBe(0);
    const path = join(dir, 'out', 'unit.zpl');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const format = readZpl(readFileSync(path, 'utf8'));
    expect([format.width, format.length]).toEqual([480, 360]); // 40 × 30 mm at 12 dots/mm
    expect(format.fields.find((f) => f.qr)!.data).toBe(`MM,A${r.unit.payload}`);
    expect(format.fields.map((f) => f.text)).toEqual(expect.arrayContaining([formatSetupCode(r.unit.setupCode), r.unit.mac.toUpperCase(), 'Demo Smart Plug']));
    expect(out.out).not.toContain(r.unit.setupCode);
    expect((await unitNow(r.unit.id)).labelPrintCount).toBe(printsBefore);
    const bitmap = await cli(['label', '--unit', String(r.unit.id), '--zpl', 'out/bitmap.zpl', '--qr', 'bitmap', '--db', 'st.db']);
    expect(bitmap.code).toBe(0);
    expect(readZpl(readFileSync(join(dir, 'out', 'bitmap.zpl'), 'utf8')).fields.some((f) => f.graphic)).toBe(true);
  });

  it.each([
    [['label', '--zpl', 'x.zpl'], 2, /give the unit with --unit ID or --mac MAC/],
    [['label', '--unit', '1'], 2, /nothing to do: give --zpl FILE and\/or --printer/],
    [['label', '--unit', '1', '--printer', 'http://zebra'], 2, /--printer "http:\/\/zebra" is not a ZPL printer address/],
    [['label', '--unit', '1', '--zpl', 'x.zpl', '--dpi', '200'], 2, /--dpi must be 203, 300 or 600/],
    [['label', '--unit', '99999', '--zpl', 'x.zpl', '--db', 'st.db'], 1, /there is no unit 99999/],
    [['label', '--mac', 'zz', '--zpl', 'x.zpl', '--db', 'st.db'], 2, /--mac zz is not a MAC address/],
    [['label', '--unit', '1', '--zpl', 'x.zpl', '--db', 'none.db'], 1, /none\.db: no such database/],
    [['provision', '--profile', 'demo-profile.json', '--port', 'virtual:esp32', '--printer', 'zpl://'], 2, /--printer "zpl:\/\/" is not a ZPL printer address/],
  ])('%j → exit %i, one line', async (args, code, message) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(join(dir, 'x.zpl'))).toBe(false);
  });
});
