// A `factory-station provision` child process on the demo profile and a persisted virtual ESP32,
// SIGKILLed (when asked) at a random moment shortly after it reports a given stage on stderr —
// the crash-safety tests' way of killing a station mid-reservation or mid-flash.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/factory-station');

export interface ProvisionChild {
  /** Folder holding demo-profile.json; labels go to its labels/. */
  cwd: string;
  /** --db: a file (relative to cwd) or a postgres:// URL. */
  db: string;
  /** --virtual-state: the board's persisted flash. */
  state: string;
  station?: string;
  /** Kill after the child's progress line for this stage, then within `killWithinMs`. */
  killAfter?: string;
  killWithinMs: number;
}

export function provisionChild(o: ProvisionChild): Promise<{ code: number | null; killed: boolean; err: string }> {
  const args = [BIN, 'provision', '--profile', 'demo-profile.json', '--port', 'virtual:esp32', '--db', o.db, ...(o.station ? ['--station', o.station] : []), '--virtual-state', o.state, '--label-out', 'labels'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: o.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let killed = false;
    let armed = false;
    let seen = '';
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (o.killAfter && !armed && new RegExp(`^${o.killAfter}: `, 'm').test(seen)) {
        armed = true;
        setTimeout(() => { killed = child.kill('SIGKILL'); }, Math.floor(Math.random() * o.killWithinMs));
      }
    });
    child.on('exit', (code) => resolve({ code, killed: killed && code === null, err: seen }));
  });
}
