// Serves a virtual chip on a pseudo-terminal so out-of-process flashers (esptool.py, the CLI) can
// use it. Node has no pty API, so socat makes a linked pty pair: we open one end with serialport's
// real binding and hand the other end's path to the client. A pty has no modem lines, so the chip
// is started in download mode and the line rate always follows the chip's UART.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SerialPort } from 'serialport';
import { ROM_BAUD, VirtualChip, type HostPort, type VirtualChipOptions } from './chip.ts';

export interface PtyServer {
  /** The pty path a client should open. */
  readonly path: string;
  readonly chip: VirtualChip;
  /** Stops serving: closes our pty end and terminates socat. */
  close(): Promise<void>;
}

export interface PtyServerOptions extends Omit<VirtualChipOptions, 'startInDownloadMode'> {
  /** socat executable (default "socat" from PATH). */
  socat?: string;
  /** How long to wait for socat to report both ptys (ms). */
  startTimeoutMs?: number;
}

/** Starts socat and resolves with the two pty paths it created. */
async function startSocat(socatPath: string, timeoutMs: number): Promise<{ proc: ChildProcess; ends: [string, string] }> {
  const proc = spawn(socatPath, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ends: string[] = [];
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`socat did not create ptys within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill('SIGTERM');
      reject(err);
    };
    proc.on('error', (err) => fail(new Error(`cannot run socat (${(err as NodeJS.ErrnoException).code ?? err.message}); install it with apt-get install socat`)));
    proc.on('exit', (code) => fail(new Error(`socat exited early with code ${code}`)));
    // Keep draining socat's log after start-up so it never blocks on a full pipe.
    const lines = createInterface({ input: proc.stderr! });
    lines.on('line', (line) => {
      const m = / PTY is (\S+)/.exec(line);
      if (m) ends.push(m[1]);
      if (ends.length === 2 && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ proc, ends: [ends[0], ends[1]] });
      }
    });
  });
}

export async function servePty(options: PtyServerOptions): Promise<PtyServer> {
  const { socat = 'socat', startTimeoutMs = 5000, ...chipOptions } = options;
  const chip = new VirtualChip({ ...chipOptions, startInDownloadMode: true });
  const { proc, ends } = await startSocat(socat, startTimeoutMs);
  const [ourEnd, clientEnd] = ends;
  let port: SerialPort;
  try {
    port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path: ourEnd, baudRate: ROM_BAUD, autoOpen: false });
      p.open((err) => (err ? reject(err) : resolve(p)));
    });
  } catch (err) {
    proc.kill('SIGTERM');
    throw err;
  }
  let host: HostPort | null = chip.connect(
    {
      data: (bytes) => port.write(Buffer.from(bytes)),
      disconnected: () => {
        host = null;
      },
    },
    ROM_BAUD,
    { followChipBaud: true },
  );
  port.on('data', (chunk: Buffer) => host?.write(new Uint8Array(chunk)));
  // A pty error (e.g. socat died) just ends the service; close() still cleans up.
  port.on('error', () => undefined);

  let closed = false;
  return {
    path: clientEnd,
    chip,
    async close() {
      if (closed) return;
      closed = true;
      host?.close();
      host = null;
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}
