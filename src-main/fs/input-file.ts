// Reading a file the user named as an input. A device named by mistake (a serial port picked by
// tab completion, /dev/zero) would block the read or never end it, so devices are refused with
// code EFTYPE before anything is read. Pipes stay allowed (`<(…)`, /dev/stdin).
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

export const NOT_A_FILE = 'EFTYPE';

export function readInputFileSync(path: string): Uint8Array {
  refuseDevice(path, statSync(path));
  return bytes(readFileSync(path));
}

export async function readInputFile(path: string): Promise<Uint8Array> {
  refuseDevice(path, await stat(path));
  return bytes(await readFile(path));
}

function refuseDevice(path: string, st: Stats): void {
  if (!st.isCharacterDevice() && !st.isBlockDevice()) return;
  const err = new Error(`${NOT_A_FILE}: a device, not a file: '${path}'`) as NodeJS.ErrnoException;
  err.code = NOT_A_FILE;
  err.path = path;
  throw err;
}

function bytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
