// The ZPL printer client against a fake printer on 127.0.0.1: status before and after each label,
// plain operator messages, a label cancelled on the printer when it cannot confirm it, nothing
// ever sent twice, and clear errors for refused / silent / dropped connections. No test waits on
// the clock: the fake answers at once or never (then a short timeout is the only way out).
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { printZpl, queryZplStatus, ZplPrinterError } from '../../src-main/label/zpl-printer.ts';
import { isIdle, parseHostStatus, printerProblem } from '../../src-main/label/zpl-status.ts';
import { FakeZplPrinter } from './fake-zpl-printer.ts';

const LABEL = '^XA\n^FO10,10^A0N,20,18^FDhello^FS\n^XZ\n';
const printers: FakeZplPrinter[] = [];
afterEach(async () => {
  for (const p of printers.splice(0)) await p.close();
});

async function fake(): Promise<FakeZplPrinter> {
  const p = await FakeZplPrinter.start();
  printers.push(p);
  return p;
}

const at = (p: FakeZplPrinter) => ({ host: '127.0.0.1', port: p.port });

async function failure(promise: Promise<unknown>): Promise<ZplPrinterError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(ZplPrinterError);
  return err as ZplPrinterError;
}

describe('~HS host status', () => {
  // Hand-written answers in the documented layout (ZPL II Programming Guide, ~HS).
  const answer = (one: string, two: string) => [one, two, '1234,0'];
  it('reads paper out, pause, formats, head up, ribbon out and labels remaining', () => {
    const s = parseHostStatus(answer('030,1,1,1225,002,0,0,0,000,0,0,0', '001,0,1,1,1,2,6,0,00000003,1,000'));
    expect(s).toMatchObject({ paperOut: true, paused: true, formatsInBuffer: 2, headOpen: true, ribbonOut: true, labelsRemaining: 3, bufferFull: false });
    expect(isIdle(s)).toBe(false);
    expect(printerProblem(s)?.code).toBe('head-open'); // the cause, not the pause
    const ok = parseHostStatus(answer('030,0,0,0240,000,0,0,0,000,0,0,0', '001,0,0,0,0,2,6,0,00000000,1,000'));
    expect(isIdle(ok)).toBe(true);
    expect(printerProblem(ok)).toBeNull();
    expect(printerProblem(parseHostStatus(answer('030,0,0,0240,000,1,0,1,000,0,0,0', '001,0,0,0,0,2,6,0,00000000,1,000')))?.code).toBe('buffer-full');
    expect(() => parseHostStatus(['hello', 'world', 'x'])).toThrow(/not a ~HS answer/);
  });
});

describe('printZpl', () => {
  it('prints: status before, the label once, then waits (polling ~HS) until the printer holds nothing of it', async () => {
    const p = await fake();
    p.printingPolls = 3; // the label stays "in the batch" for three answers
    const result = await printZpl(at(p), LABEL, { pollMs: 1 });
    await p.settled();
    expect(p.printed).toEqual([LABEL.trim()]);
    expect(isIdle(result.status)).toBe(true);
    // one before, three while printing, one that finds it printed
    expect(p.commands.filter((c) => c === '~HS').length).toBe(1 + 3 + 1);
    expect(p.connections).toHaveLength(1);
    expect(p.connections[0]!.startsWith('~HS')).toBe(true); // status before the label
  });

  it('paper out before printing: refused, nothing sent, a plain message', async () => {
    const p = await fake();
    p.state.paperOut = true;
    p.state.paused = true;
    const err = await failure(printZpl(at(p), LABEL));
    expect(err.message).toBe(`The label printer at 127.0.0.1:${p.port} is out of labels: load a new roll of labels and close the head. Nothing was printed.`);
    expect(err).toMatchObject({ code: 'printer-problem', labelSent: false });
    await p.settled();
    expect(p.connections[0]).not.toContain('^XA');
    p.recover();
    await printZpl(at(p), LABEL);
    expect(p.printed).toHaveLength(1);
  });

  it('head opened while printing: the held label is cancelled (~JA), so recovering the printer prints nothing by itself', async () => {
    const p = await fake();
    p.onFormat = (_format, printer) => {
      printer.state.headOpen = true;
      printer.state.paused = true;
      printer.onFormat = null;
      return 'hold';
    };
    const err = await failure(printZpl(at(p), LABEL));
    expect(err.message).toMatch(/has its print head open: close the head\. The label was cancelled on the printer/);
    expect(err.labelSent).toBe(true);
    await p.settled();
    expect(p.commands).toContain('~JA');
    p.recover();
    expect(p.printed).toEqual([]); // without ~JA the held label would have come out here
    await printZpl(at(p), LABEL);
    expect(p.printed).toHaveLength(1);
  });

  it('a problem reported after the label printed is a warning, not a failure', async () => {
    const p = await fake();
    p.onFormat = (_f, printer) => {
      printer.state.paperOut = true; // the roll ended with this label
      printer.onFormat = null;
      return 'print';
    };
    const result = await printZpl(at(p), LABEL);
    await p.settled();
    expect(p.printed).toHaveLength(1);
    expect(result.warning).toMatch(/is out of labels/);
  });

  it('connection dropped while the label is sent: may or may not have printed, never resent', async () => {
    const p = await fake();
    p.onFormat = (_f, printer) => {
      printer.onFormat = null;
      return 'drop';
    };
    const err = await failure(printZpl(at(p), LABEL));
    expect(err).toMatchObject({ code: 'dropped', labelSent: true });
    expect(err.message).toMatch(/dropped after the label was sent, before the printer confirmed it/);
    await p.settled();
    expect(p.connections).toHaveLength(1); // no automatic reconnect / resend
    expect(p.printed).toEqual([]);
  });

  it('hang-up before anything is sent: nothing printed', async () => {
    const p = await fake();
    p.hangUpOnConnect = true;
    const err = await failure(printZpl(at(p), LABEL));
    expect(err).toMatchObject({ code: 'dropped', labelSent: false });
    expect(err.message).toMatch(/dropped before the label was sent: nothing was printed/);
  });

  it('refused connection and a printer that never answers ~HS are clear errors', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await failure(printZpl({ host: '127.0.0.1', port }, LABEL));
    expect(refused.message).toBe(`The label printer at 127.0.0.1:${port} refused the connection: check that it is switched on and that 127.0.0.1:${port} is its address and raw port.`);

    const p = await fake();
    p.silent = true;
    const silent = await failure(printZpl(at(p), LABEL, { answerTimeoutMs: 200 }));
    expect(silent).toMatchObject({ code: 'no-answer', labelSent: false });
    expect(silent.message).toMatch(/did not answer the status request \(~HS\) within 0\.2 s\. Nothing was printed\./);
    await p.settled();
    expect(p.connections[0]).not.toContain('^XA');
  });

  it('a label the printer never finishes: cancelled after the confirmation time, the operator told to check', async () => {
    const p = await fake();
    p.printingPolls = Number.POSITIVE_INFINITY; // "printing" for ever
    const err = await failure(printZpl(at(p), LABEL, { pollMs: 1, confirmTimeoutMs: 50 }));
    expect(err).toMatchObject({ code: 'unconfirmed', labelSent: true });
    expect(err.message).toMatch(/did not finish the label within 0\.05 s; what it still held was cancelled\. Check the printer and print again; if two labels come out for this unit, destroy one\./);
    await p.settled();
    expect(p.commands.at(-2)).toBe('~JA');
    expect(p.printed).toEqual([]);
  });

  it('a device that is not a ZPL printer is named as such', async () => {
    const p = await fake();
    p.garbage = '\x02HTTP/1.0 400\x03\x02x\x03\x02y\x03';
    const err = await failure(queryZplStatus(at(p)));
    expect(err.code).toBe('not-zpl');
    expect(err.message).toMatch(/is not a ZPL printer status/);
  });

  it('labels for one printer go one at a time (a cancel never hits another job\'s label)', async () => {
    const p = await fake();
    p.printingPolls = 2;
    const labels = Array.from({ length: 5 }, (_, i) => `^XA^FO0,0^A0N,20,18^FD${i}^FS^XZ`);
    await Promise.all(labels.map((l) => printZpl(at(p), l, { pollMs: 1 })));
    await p.settled();
    expect([...p.printed].sort()).toEqual([...labels].sort());
    expect(p.held).toEqual([]);
    // Each connection carried one label, and a connection opened only after the previous closed.
    expect(p.connections.map((c) => (c.match(/\^XA/g) ?? []).length)).toEqual([1, 1, 1, 1, 1]);
  });
});
