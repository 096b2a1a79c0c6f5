// A fake ZPL label printer for the tests: a TCP server on 127.0.0.1 that records everything it
// receives, "prints" each complete ^XA…^XZ format while it is healthy, holds formats while it is
// not (as a real printer does: fixing it prints them), answers ~HS with its scripted state in the
// documented three-string layout, and obeys ~JA (cancel all). Written from the ZPL II
// Programming Guide's ~HS description, not from the station's client code.
import { createServer, type Server, type Socket } from 'node:net';

export interface FakePrinterState {
  paperOut: boolean;
  paused: boolean;
  headOpen: boolean;
  ribbonOut: boolean;
  bufferFull: boolean;
}

/** What the printer does with a complete format that arrives while it is healthy. */
export type FormatScript = (format: string, printer: FakeZplPrinter) => 'print' | 'hold' | 'drop';

export class FakeZplPrinter {
  /** Everything received, per connection, in order. */
  readonly connections: string[] = [];
  /** Formats printed, in order. */
  readonly printed: string[] = [];
  /** Formats received and waiting (printer not ready). */
  readonly held: string[] = [];
  /** Tilde commands received (~HS, ~JA, ~SDnn), in order. */
  readonly commands: string[] = [];
  state: FakePrinterState = { paperOut: false, paused: false, headOpen: false, ribbonOut: false, bufferFull: false };
  /** Decides the fate of the next formats (default: print them). */
  onFormat: FormatScript | null = null;
  /** ~HS answers during which a printing label is still "in the batch" before it counts as printed. */
  printingPolls = 0;
  /** Never answer ~HS. */
  silent = false;
  /** Close every new connection at once. */
  hangUpOnConnect = false;
  /** Answer ~HS with this text instead of a status (a device that is not a ZPL printer). */
  garbage: string | null = null;
  private printing: { format: string; pollsLeft: number } | null = null;
  private readonly sockets = new Set<Socket>();
  private closed: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(): Promise<FakeZplPrinter> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const printer = new FakeZplPrinter(server, port);
    server.on('connection', (socket) => printer.accept(socket));
    return printer;
  }

  get url(): string {
    return `zpl://127.0.0.1:${this.port}`;
  }

  /** The operator fixes the printer: flags cleared, held formats print (as a real printer resumes). */
  recover(): void {
    this.state = { paperOut: false, paused: false, headOpen: false, ribbonOut: false, bufferFull: false };
    this.printed.push(...this.held.splice(0));
  }

  /** Resolves once every connection has closed, i.e. everything the client sent was handled. */
  async settled(): Promise<void> {
    while (this.sockets.size > 0) await new Promise<void>((resolve) => this.closed.push(resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private get healthy(): boolean {
    const s = this.state;
    return !(s.paperOut || s.paused || s.headOpen || s.ribbonOut);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const wake of this.closed.splice(0)) wake();
    });
    socket.on('error', () => undefined);
    if (this.hangUpOnConnect) return void socket.destroy();
    const index = this.connections.push('') - 1;
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.connections[index] += chunk;
      buffer += chunk;
      buffer = this.consume(buffer, socket);
    });
  }

  /** Handles every complete command at the start of `buffer`; returns what is left (a partial format). */
  private consume(buffer: string, socket: Socket): string {
    for (;;) {
      buffer = buffer.replace(/^[\r\n\s]+/, '');
      if (buffer.startsWith('~')) {
        const name = buffer.slice(0, 3);
        const length = name === '~SD' ? 5 : 3;
        if (buffer.length < length) return buffer;
        this.commands.push(buffer.slice(0, length));
        this.tilde(name, socket);
        buffer = buffer.slice(length);
      } else if (buffer.startsWith('^XA')) {
        const end = buffer.indexOf('^XZ');
        if (end < 0) return buffer;
        const format = buffer.slice(0, end + 3);
        buffer = buffer.slice(end + 3);
        if (this.format(format, socket) === 'dropped') return '';
      } else if (buffer.length > 0) {
        buffer = buffer.slice(1); // noise between commands
      } else {
        return buffer;
      }
    }
  }

  private format(format: string, socket: Socket): 'ok' | 'dropped' {
    if (!this.healthy || this.printing) {
      this.held.push(format);
      return 'ok';
    }
    const fate = this.onFormat ? this.onFormat(format, this) : 'print';
    if (fate === 'drop') {
      socket.destroy(); // a printer reset: the format is lost
      return 'dropped';
    }
    if (fate === 'hold') this.held.push(format);
    else if (this.printingPolls > 0) this.printing = { format, pollsLeft: this.printingPolls };
    else this.printed.push(format);
    return 'ok';
  }

  private tilde(name: string, socket: Socket): void {
    if (name === '~JA') {
      this.held.length = 0;
      this.printing = null;
    } else if (name === '~HS' && !this.silent) {
      socket.write(this.garbage ?? this.hostStatus());
      if (this.printing && --this.printing.pollsLeft <= 0) {
        this.printed.push(this.printing.format);
        this.printing = null;
      }
    }
  }

  /** <STX>aaa,b,c,dddd,eee,f,g,h,iii,j,k,l<ETX><CR><LF> <STX>mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www<ETX>… <STX>xxxx,y<ETX>… */
  private hostStatus(): string {
    const s = this.state;
    const b = (v: boolean) => (v ? '1' : '0');
    const formats = this.held.length;
    const batch = this.printing ? 1 : this.held.length > 0 ? 1 : 0;
    const one = ['030', b(s.paperOut), b(s.paused), '0240', String(formats).padStart(3, '0'), b(s.bufferFull), '0', '0', '000', '0', '0', '0'];
    const two = ['001', '0', b(s.headOpen), b(s.ribbonOut), '0', '2', '6', '0', String(batch).padStart(8, '0'), '1', '000'];
    return [one.join(','), two.join(','), '1234,0'].map((t) => `\x02${t}\x03\r\n`).join('');
  }
}
