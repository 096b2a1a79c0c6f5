// The host's side of a virtual chip: what a serialport binding or the pty bridge holds while the
// port is open (HostPort), what the chip calls back (HostListener), and the chip's modes.

/**
 * off: unplugged/no power. reset: EN held low. download: ROM loader (or stub once uploaded).
 * firmware: booted from flash (console text, SLIP ignored). crashed/stalled: silent until reset.
 */
export type ChipMode = 'off' | 'reset' | 'download' | 'firmware' | 'crashed' | 'stalled';

export interface HostListener {
  /** Bytes the chip sent that arrived intact at the host's baud rate. */
  data(bytes: Uint8Array): void;
  /** The device vanished (unplug): the port is dead. */
  disconnected(err: Error): void;
}

/** The host's end of the cable while a port is open. */
export interface HostPort {
  readonly baud: number;
  write(bytes: Uint8Array): void;
  /** Sets the named lines; omitted lines keep their state. `true` = asserted. */
  setSignals(lines: { dtr?: boolean; rts?: boolean }): void;
  setBaud(baud: number): void;
  /** Discards host bytes not yet transmitted. */
  discardOutput(): void;
  /** Resolves when everything written so far has been transmitted. */
  drain(): Promise<void>;
  /** Closing a tty drops both lines (HUPCL). */
  close(): void;
}

export interface Connection {
  listener: HostListener;
  baud: number;
  /** The host's rate always equals the chip's (a pty bridge, where the client's rate is invisible). */
  followChipBaud: boolean;
  port: HostPort;
}

export interface ConnectOptions {
  /** Never drop bytes for a rate mismatch: the host side follows the chip's UART rate. */
  followChipBaud?: boolean;
}
