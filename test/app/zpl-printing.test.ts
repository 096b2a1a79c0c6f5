// Acceptance through the app (AppCore, its IPC handlers and label delivery) with a ZPL printer —
// a fake one on 127.0.0.1 that records the ZPL and answers ~HS with scripted states: paper out,
// a head opened mid-label and a dropped connection each leave the unit "label pending" with a plain
// message (amber tile); once the printer recovers, Print again prints it — and every label comes
// out exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCore, type Platform } from '../../src-main/app/app-core.ts';
import { createHandlers, dispatch } from '../../src-main/app/handlers.ts';
import { formatSetupCode } from '../../shared/homekit/setup-code.ts';
import type { ProvisionReply } from '../../shared/ipc.ts';
import { FakeZplPrinter } from '../label/fake-zpl-printer.ts';
import { readZpl } from '../label/zpl-reader.ts';

/** The app must not touch the system printer or Chromium's PDF path for a ZPL product. */
const platform: Platform = {
  pickFile: async () => null, pickManifestPath: async () => null, pickPoolManifest: async () => null,
  listPrinters: async () => { throw new Error('system printers listed for a ZPL product'); },
  printLabel: async () => { throw new Error('system print for a ZPL product'); },
  saveLabelPdf: async () => { throw new Error('PDF saved for a ZPL product'); },
};

let core: AppCore;
let printer: FakeZplPrinter;
const call = (method: string, ...args: unknown[]) => dispatch(createHandlers(core), method, args);

beforeAll(async () => {
  printer = await FakeZplPrinter.start();
  core = await AppCore.open({ dataDir: mkdtempSync(join(tmpdir(), 'hkfs-zplapp-')), demo: true, demoPacing: false, portBinding: { list: async () => [] }, platform });
  const editor = await core.getProfile('demo-profile.json');
  await core.saveProfile('demo-profile.json', { ...editor.profile, label: { ...editor.profile.label, showUnit: true }, printer: { mode: 'zpl', host: '127.0.0.1', port: printer.port, dpi: 203 } });
});
afterAll(async () => {
  await core.close();
  await printer.close();
});

/** A new board in a new slot, provisioned; its label goes to the printer as part of the run. */
async function provisionNewBoard(): Promise<{ port: string; reply: Extract<ProvisionReply, { kind: 'done' }> }> {
  const port = core.addDemoChip('esp32s3');
  const reply = await core.provisionNext(port);
  if (reply.kind !== 'done') throw new Error(`provision failed: ${JSON.stringify(reply)}`);
  return { port, reply };
}

async function expectLabelPending(port: string, unitId: number, message: RegExp) {
  const tile = core.snapshot().tiles.find((t) => t.path === port)!;
  expect(tile.state.phase).toBe('print-failed'); // amber "No label"
  expect(tile.state.failure).toMatchObject({ stage: 'label', code: 'printer', message: expect.stringMatching(message) });
  expect((await core.history.listUnits({})).find((u) => u.id === unitId)).toMatchObject({ status: 'label-pending', labelPrintCount: 0 });
}

/** The labels the printer printed for this payload. */
const printedFor = (payload: string) => printer.printed.filter((f) => readZpl(f).fields.some((field) => field.data === `MM,A${payload}`));

describe('ZPL printer problems in the app', () => {
  it('a healthy printer: the label is printed once, with the unit\'s code, MAC and slot line, and the tile is done', async () => {
    const { port, reply } = await provisionNewBoard();
    expect(reply.label).toEqual({ status: 'printed', unitId: reply.result.unit.id, printer: `zpl://127.0.0.1:${printer.port}` });
    await printer.settled();
    const [label] = printedFor(reply.result.payload);
    expect(printedFor(reply.result.payload)).toHaveLength(1);
    const texts = readZpl(label!).fields.map((f) => f.text);
    expect(texts).toEqual(expect.arrayContaining([reply.result.setupCode, reply.result.unit.mac.toUpperCase(), expect.stringMatching(/^Unit \d+ · Slot \d+$/)]));
    expect(core.snapshot().tiles.find((t) => t.path === port)!.state).toMatchObject({ phase: 'done', labelNote: `Printed on 127.0.0.1:${printer.port} (ZPL)` });
  });

  it('paper out: nothing is sent, the unit stays label pending; after a new roll, Print again prints it once', async () => {
    printer.state.paperOut = true;
    printer.state.paused = true;
    const { port, reply } = await provisionNewBoard();
    const unitId = reply.result.unit.id;
    expect(reply.label).toEqual({ status: 'failed', message: `The label printer at 127.0.0.1:${printer.port} is out of labels: load a new roll of labels and close the head. Nothing was printed. The unit stays "label pending" until its label prints.` });
    await expectLabelPending(port, unitId, /is out of labels/);
    // Printing again while the printer is still empty fails the same way, still nothing printed.
    expect(await call('printLabel', unitId)).toMatchObject({ ok: false, error: { code: 'printer', message: expect.stringMatching(/out of labels/) } });
    printer.recover();
    expect(await call('printLabel', unitId)).toEqual({ ok: true, value: { status: 'printed', unitId, printer: `zpl://127.0.0.1:${printer.port}` } });
    await printer.settled();
    expect(printedFor(reply.result.payload)).toHaveLength(1);
    expect((await core.history.listUnits({})).find((u) => u.id === unitId)).toMatchObject({ status: 'done', labelPrintCount: 1 });
  });

  it('head opened while printing: the label is cancelled on the printer, so closing the head prints nothing until Print again', async () => {
    printer.onFormat = (_format, p) => {
      p.state.headOpen = true;
      p.state.paused = true;
      p.onFormat = null;
      return 'hold';
    };
    const { port, reply } = await provisionNewBoard();
    const unitId = reply.result.unit.id;
    expect(reply.label).toMatchObject({ status: 'failed', message: expect.stringMatching(/has its print head open: close the head\. The label was cancelled on the printer so it cannot come out later by itself/) });
    await expectLabelPending(port, unitId, /print head open/);
    await printer.settled();
    printer.recover(); // the operator closes the head
    expect(printedFor(reply.result.payload)).toHaveLength(0);
    expect(await call('printLabel', unitId)).toMatchObject({ ok: true, value: { status: 'printed' } });
    await printer.settled();
    expect(printedFor(reply.result.payload)).toHaveLength(1);
  });

  it('connection dropped while the label was sent: label pending, never resent by itself; Print again prints it once', async () => {
    printer.onFormat = (_format, p) => {
      p.onFormat = null;
      return 'drop'; // the printer resets: the label is lost
    };
    const connections = printer.connections.length;
    const { port, reply } = await provisionNewBoard();
    const unitId = reply.result.unit.id;
    expect(reply.label).toMatchObject({ status: 'failed', message: expect.stringMatching(/connection to the label printer at 127\.0\.0\.1:\d+ dropped after the label was sent, before the printer confirmed it/) });
    await expectLabelPending(port, unitId, /dropped after the label was sent/);
    await printer.settled();
    expect(printer.connections.length - connections).toBe(1); // no automatic second attempt
    expect(printedFor(reply.result.payload)).toHaveLength(0);
    expect(await call('printLabel', unitId)).toMatchObject({ ok: true, value: { status: 'printed' } });
    await printer.settled();
    expect(printedFor(reply.result.payload)).toHaveLength(1);
    expect((await core.history.listUnits({})).find((u) => u.id === unitId)).toMatchObject({ status: 'done', labelPrintCount: 1 });
  });

  it('messages are plain: no setup code, no stack trace; every label came out exactly once', async () => {
    const attempts = await core.history.listAttempts({ kind: 'print', outcome: 'failed' });
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    for (const a of attempts) {
      expect(a.message).toMatch(/^(The label printer at|The connection to the label printer at) 127\.0\.0\.1:\d+ /);
      expect(a.message).not.toMatch(/\n|\bat .*\.ts:\d+/);
    }
    const units = await core.history.listUnits({});
    expect(units).toHaveLength(4);
    expect(printer.printed).toHaveLength(4);
    const all = JSON.stringify(attempts);
    for (const u of units) {
      const label = await core.getLabel(u.id);
      expect(all).not.toContain(label.setupCode);
      expect(printedFor(label.payload)).toHaveLength(1);
      expect(readZpl(printedFor(label.payload)[0]!).fields.map((f) => f.text)).toContain(formatSetupCode(label.setupCode.replace(/-/g, '')));
    }
  });
});
