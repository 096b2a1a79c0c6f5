// The few Python behaviours factory-nvs-gen must reproduce to print the reference's texts and pick
// its paths: repr() of a str, OSError messages, os.path.splitext / join(dir, '') and the strftime
// of the keys file name. Shared by the argument parser and the generation, and kept here so each
// Python imitation is written (and checked against CPython's rules) once.
import { NOT_A_FILE } from '../fs/index.ts';

/** Python's repr() of a str, for messages that quote the reference's. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** What Python prints for an OSError opening `shown` (ours for what Python would not refuse). */
export function pythonOsError(err: unknown, shown: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `[Errno 2] No such file or directory: ${pyRepr(shown)}`;
  if (code === 'EISDIR') return `[Errno 21] Is a directory: ${pyRepr(shown)}`;
  if (code === 'EACCES') return `[Errno 13] Permission denied: ${pyRepr(shown)}`;
  if (code === NOT_A_FILE) return `${shown}: a device, not a file`;
  return `${shown}: ${(err as Error).message}`;
}

/** strftime('%m-%d_%H-%M') in local time. */
export function timestamp(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getMonth() + 1)}-${two(d.getDate())}_${two(d.getHours())}-${two(d.getMinutes())}`;
}

/** os.path.join(dir, ''). */
export function withTrailingSeparator(dir: string): string {
  return dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
}

/** os.path.basename (POSIX). */
export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** os.path.splitext (POSIX): leading dots of the last component do not start an extension. */
export function pySplitext(p: string): [string, string] {
  const base = basename(p);
  const dot = base.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(base.slice(0, dot + 1))) return [p, ''];
  const cut = p.length - base.length + dot;
  return [p.slice(0, cut), p.slice(cut)];
}
