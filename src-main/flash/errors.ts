// Every way a flash run can fail, as one error type with a machine-readable `code` and a message
// that tells the operator what to do next. esptool-js throws untyped ESPErrors with free text;
// `toFlashError` turns those (and serial-port errors) into FlashErrors in one place.

export type FlashErrorCode =
  | 'no-download-mode' // nothing answered the sync in download mode
  | 'port-busy' // another program holds the serial port
  | 'port-not-found' // no such serial port
  | 'unplugged' // the port vanished during the run
  | 'wrong-chip' // detected chip is not the one the plan was built for
  | 'wrong-device' // a different unit than the one identified before (MAC changed)
  | 'verify-mismatch' // flash contents differ from what was written
  | 'image-too-large' // an image does not fit its partition
  | 'overlap' // two writes would touch the same flash sector
  | 'flash-too-small' // the chip's flash cannot hold the layout
  | 'invalid-plan' // inputs that cannot make a write plan (missing partition, bad flasher_args…)
  | 'timeout' // the chip stopped answering
  | 'protocol' // garbled answers (noise, wrong baud)
  | 'cancelled' // the caller aborted
  | 'not-a-port' // the path is a file, a folder or a device that is not a serial port
  | 'port-permission'; // the operating system refuses this user the port

export class FlashError extends Error {
  readonly code: FlashErrorCode;
  /** Which step was running when it failed ('connect', 'identify', 'write:<region>', 'verify', …). */
  stage?: string;
  /** The last esptool-js log lines before the failure (for a details view / support). */
  log?: string[];
  constructor(code: FlashErrorCode, message: string, options?: { cause?: unknown; stage?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlashError';
    this.code = code;
    this.stage = options?.stage;
  }
}

export function isFlashError(err: unknown): err is FlashError {
  return err instanceof FlashError;
}

const HOLD_BOOT = 'hold BOOT, tap RESET (or replug the board with BOOT held), then try again';

/** Operator-facing messages, one per code; `detail` adds the specific facts. */
export function flashErrorMessage(code: FlashErrorCode, port: string, detail?: string): string {
  const d = detail ? ` (${detail})` : '';
  switch (code) {
    case 'no-download-mode':
      return `No device in download mode on ${port}${d} — ${HOLD_BOOT}`;
    case 'port-busy':
      return `Serial port ${port} is in use by another program${d} — close serial monitors / other flashers and try again`;
    case 'port-not-found':
      return `Serial port ${port} does not exist${d} — check the USB cable and pick the port again`;
    case 'not-a-port':
      return `${port} is not a serial port${d} — pick the board's port (factory-station ports lists them)`;
    case 'port-permission':
      return `No permission to open ${port}${d} — add this user to the dialout group (Linux) and log in again, or see README › Serial-port permissions`;
    case 'unplugged':
      return `The device on ${port} was disconnected during the run${d} — reconnect it and flash again`;
    case 'timeout':
      return `The chip on ${port} stopped answering${d} — check the cable / power, press RESET and flash again`;
    case 'protocol':
      return `Garbled answers from the chip on ${port}${d} — use a shorter USB cable or a lower --baud and try again`;
    case 'cancelled':
      return `Flashing on ${port} was cancelled${d}; the device may be half-written — flash it again before use`;
    case 'verify-mismatch':
      return `Verification failed on ${port}${d}: flash contents differ from the image — flash again; if it repeats, the flash chip is faulty`;
    default:
      return `${port}: ${detail ?? code}`;
  }
}

interface ErrorContext {
  port: string;
  stage?: string;
}

/**
 * Maps anything thrown while talking to a chip onto a FlashError. FlashErrors pass through.
 * The text matching follows esptool-js 0.7.0 / serialport 13 messages (see the tests).
 */
export function toFlashError(err: unknown, ctx: ErrorContext): FlashError {
  if (err instanceof FlashError) {
    err.stage ??= ctx.stage;
    return err;
  }
  const text = err instanceof Error ? err.message : String(err);
  const make = (code: FlashErrorCode, detail?: string) =>
    new FlashError(code, flashErrorMessage(code, ctx.port, detail), { cause: err, stage: ctx.stage });
  if (/cannot lock port|port is locked|already open|\(locked\)|resource busy|resource temporarily unavailable|access denied|EBUSY/i.test(text)) {
    return make('port-busy');
  }
  if (/no such file|ENOENT|not found|does not exist|not present/i.test(text)) return make('port-not-found');
  if (/permission denied|EACCES|EPERM|operation not permitted/i.test(text)) return make('port-permission');
  if (/is a directory|EISDIR/i.test(text)) return make('not-a-port', 'it is a folder');
  if (/disconnected|device has been lost|device not configured|ENXIO/i.test(text)) return make('unplugged');
  if (/Failed to connect with the device/i.test(text)) return make('no-download-mode');
  // A serial device without modem lines (a pty, some adapters) refuses DTR/RTS: no reset is possible.
  if (/Inappropriate ioctl|ENOTTY/i.test(text)) {
    return make('no-download-mode', 'the serial device has no DTR/RTS lines, so the chip cannot be reset from here; put it in download mode by hand and use --before no-reset');
  }
  if (/MD5 of file does not match/i.test(text)) return make('verify-mismatch');
  if (/Serial data stream stopped|No serial data received|timed? ?out/i.test(text)) return make('timeout', firstLine(text));
  return make('protocol', firstLine(text));
}

function firstLine(text: string): string {
  const line = text.split('\n')[0].trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
