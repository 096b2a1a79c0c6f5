// Sends one label to a ZPL printer over raw TCP (port 9100) and has the printer confirm it:
//
//   connect → ~HS → (a problem: refused, nothing sent) → the label → ~HS … until the printer holds
//   nothing more of it (printed), reports a problem, or the confirmation times out.
//
// "The printer confirms" means: after the label went out on this connection, ~HS reports no format
// in the printer's buffer, none being received and no label left in its batch — it has printed
// everything it was given. ~HS is answered as soon as the printer reads it, and it reads the
// stream in order, so the answer to a ~HS sent after the label already counts that label.
//
// No label is ever printed twice by a retry: nothing here sends a label again. When the printer
// reports a problem while the label still waits in it (head opened, roll ran out) or does not
// confirm in time, the label is cancelled on the printer (~JA, cancel all) so that fixing the
// printer does not print it later on its own while the operator prints it again. When the
// connection drops after the label was (partly) sent, nobody can know whether it printed: the
// error says so and the operator decides; it is never resent automatically.
//
// Prints to one printer are serialised inside this process, so one job's cancel never hits
// another's label. A printer is assumed to serve one station (its queue is the station's).
import { connect, type Socket } from 'node:net';
import { zplAddress } from '../../shared/station/printer.ts';
import { isIdle, parseHostStatus, printerProblem, type HostStatus } from './zpl-status.ts';

export interface ZplEndpoint {
  host: string;
  port: number;
}

export interface ZplSendOptions {
  /** Connecting (default 5 s). */
  connectTimeoutMs?: number;
  /** One ~HS answer (default 5 s). */
  answerTimeoutMs?: number;
  /** From the label sent to the printer holding nothing more of it (default 60 s). */
  confirmTimeoutMs?: number;
  /** Between two ~HS while the label prints (default 250 ms). */
  pollMs?: number;
}

export type ZplErrorCode = 'unreachable' | 'refused' | 'timeout' | 'no-answer' | 'not-zpl' | 'dropped' | 'printer-problem' | 'unconfirmed';

/** A print that did not get the printer's confirmation; the message is for the operator. */
export class ZplPrinterError extends Error {
  constructor(
    readonly code: ZplErrorCode,
    message: string,
    /** Whether any of the label reached the connection (false: it certainly did not print). */
    readonly labelSent: boolean,
  ) {
    super(message);
    this.name = 'ZplPrinterError';
  }
}

export interface ZplPrintResult {
  /** The printer's status once it confirmed the label. */
  status: HostStatus;
  /** A problem the printer reports now, after printing this label (e.g. the roll just ran out). */
  warning?: string;
}

const DEFAULTS = { connectTimeoutMs: 5000, answerTimeoutMs: 5000, confirmTimeoutMs: 60_000, pollMs: 250 };
const queues = new Map<string, Promise<unknown>>();

/** Prints `zpl` on the printer and waits for its confirmation; throws ZplPrinterError otherwise. */
export function printZpl(endpoint: ZplEndpoint, zpl: string, options: ZplSendOptions = {}): Promise<ZplPrintResult> {
  return serialised(endpoint, () => printNow(endpoint, zpl, { ...DEFAULTS, ...options }));
}

/** The printer's status (~HS) on a connection of its own; throws ZplPrinterError. */
export function queryZplStatus(endpoint: ZplEndpoint, options: ZplSendOptions = {}): Promise<HostStatus> {
  const o = { ...DEFAULTS, ...options };
  return serialised(endpoint, async () => {
    const link = await PrinterLink.open(endpoint, o.connectTimeoutMs);
    try {
      return await link.status(o.answerTimeoutMs, false);
    } finally {
      link.close();
    }
  });
}

function serialised<T>(endpoint: ZplEndpoint, job: () => Promise<T>): Promise<T> {
  const key = zplAddress(endpoint);
  const result = (queues.get(key) ?? Promise.resolve()).then(job, job);
  const tail = result.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => queues.get(key) === tail && queues.delete(key));
  return result;
}

async function printNow(endpoint: ZplEndpoint, zpl: string, o: Required<ZplSendOptions>): Promise<ZplPrintResult> {
  const where = `The label printer at ${zplAddress(endpoint)}`;
  const link = await PrinterLink.open(endpoint, o.connectTimeoutMs);
  try {
    const before = await link.status(o.answerTimeoutMs, false);
    const problem = printerProblem(before);
    if (problem) throw new ZplPrinterError('printer-problem', `${where} ${problem.message}. Nothing was printed.`, false);
    await link.send(zpl);
    const started = performance.now();
    for (;;) {
      const now = await link.status(o.answerTimeoutMs, true);
      const after = printerProblem(now);
      if (isIdle(now)) return { status: now, ...(after ? { warning: `${where} ${after.message}.` } : {}) };
      if (after) {
        const cancelled = await link.cancelAll(o.answerTimeoutMs);
        const then = cancelled
          ? 'The label was cancelled on the printer so it cannot come out later by itself: print it again.'
          : 'The label could not be cancelled on the printer: it may come out when the printer is fixed, so check before printing it again.';
        throw new ZplPrinterError('printer-problem', `${where} ${after.message}. ${then}`, true);
      }
      if (performance.now() - started > o.confirmTimeoutMs) {
        await link.cancelAll(o.answerTimeoutMs);
        throw new ZplPrinterError('unconfirmed', `${where} did not finish the label within ${seconds(o.confirmTimeoutMs)}; what it still held was cancelled. ${MAYBE_PRINTED}`, true);
      }
      await new Promise((r) => setTimeout(r, o.pollMs));
    }
  } finally {
    link.close();
  }
}

const MAYBE_PRINTED = 'Check the printer and print again; if two labels come out for this unit, destroy one.';

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}

/** One TCP connection to the printer, reading its <STX>…<ETX> answers. */
class PrinterLink {
  private pending = '';
  private readonly answers: string[] = [];
  private wake: (() => void) | null = null;
  private lost = false;
  private labelSent = false;

  /** "The label printer at host:port", how every message starts. */
  private readonly where: string;

  private constructor(private readonly socket: Socket, private readonly address: string) {
    this.where = `The label printer at ${address}`;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.receive(chunk));
    const gone = () => {
      this.lost = true;
      this.wake?.();
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  static open(endpoint: ZplEndpoint, timeoutMs: number): Promise<PrinterLink> {
    const address = zplAddress(endpoint);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ZplPrinterError('timeout', `The label printer at ${address} did not answer within ${seconds(timeoutMs)}: check that it is switched on and connected to the network.`, false));
      }, timeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(connectError(err, endpoint));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        socket.removeAllListeners('error');
        resolve(new PrinterLink(socket, address));
      });
    });
  }

  private receive(chunk: string): void {
    this.pending += chunk;
    for (;;) {
      const start = this.pending.indexOf('\x02');
      const end = start < 0 ? -1 : this.pending.indexOf('\x03', start);
      if (end < 0) break;
      this.answers.push(this.pending.slice(start + 1, end));
      this.pending = this.pending.slice(end + 1);
    }
    if (this.pending.length > 4096) this.pending = this.pending.slice(-4096); // noise without frames
    this.wake?.();
  }

  /** Sends ~HS and reads its three strings. */
  async status(timeoutMs: number, afterLabel: boolean): Promise<HostStatus> {
    this.answers.length = 0;
    await this.write('~HS');
    const deadline = performance.now() + timeoutMs;
    while (this.answers.length < 3) {
      if (this.lost) throw this.dropped(afterLabel);
      const left = deadline - performance.now();
      if (left <= 0) {
        const then = afterLabel ? ` ${MAYBE_PRINTED}` : ' Nothing was printed.';
        throw new ZplPrinterError('no-answer', `${this.where} did not answer the status request (~HS) within ${seconds(timeoutMs)}.${then}`, this.labelSent);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    try {
      return parseHostStatus(this.answers.splice(0, 3));
    } catch {
      throw new ZplPrinterError('not-zpl', `The device at ${this.address} answered the status request with something that is not a ZPL printer status: check that it is a ZPL label printer.${afterLabel ? ` ${MAYBE_PRINTED}` : ' Nothing was printed.'}`, this.labelSent);
    }
  }

  /** The label: from here on, a dropped connection may have printed it. */
  async send(zpl: string): Promise<void> {
    if (this.lost) throw this.dropped(false);
    this.labelSent = true;
    await this.write(zpl);
  }

  /**
   * ~JA: cancels every format the printer still holds, then asks ~HS whether it holds nothing
   * more. Best effort (the job fails anyway): false when that could not be confirmed.
   */
  async cancelAll(timeoutMs: number): Promise<boolean> {
    try {
      await this.write('~JA');
      const s = await this.status(timeoutMs, true);
      return s.formatsInBuffer === 0 && s.labelsRemaining === 0;
    } catch {
      return false;
    }
  }

  private write(data: string): Promise<void> {
    if (this.lost) return Promise.reject(this.dropped(this.labelSent));
    return new Promise((resolve, reject) => {
      this.socket.write(data, 'latin1', (err) => (err ? reject(this.dropped(this.labelSent)) : resolve()));
    });
  }

  private dropped(afterLabel: boolean): ZplPrinterError {
    return afterLabel
      ? new ZplPrinterError('dropped', `The connection to the label printer at ${this.address} dropped after the label was sent, before the printer confirmed it, so it may or may not have printed. ${MAYBE_PRINTED}`, true)
      : new ZplPrinterError('dropped', `The connection to the label printer at ${this.address} dropped before the label was sent: nothing was printed. Check the printer and its network cable, then print again.`, false);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

function connectError(err: NodeJS.ErrnoException, endpoint: ZplEndpoint): ZplPrinterError {
  const address = zplAddress(endpoint);
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ZplPrinterError('refused', `The label printer at ${address} refused the connection: check that it is switched on and that ${address} is its address and raw port.`, false);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ZplPrinterError('unreachable', `The label printer's address ${endpoint.host} is not known on this network: check the printer address.`, false);
    case 'ETIMEDOUT':
      return new ZplPrinterError('timeout', `The label printer at ${address} did not answer: check that it is switched on and connected to the network.`, false);
    default:
      return new ZplPrinterError('unreachable', `The label printer at ${address} cannot be reached (${err.code ?? err.message}): check its network cable and address.`, false);
  }
}
