// Port errors name the real cause: not a serial port (a folder, a file, /dev/null), no such port
// (with the /dev/ path when only the name was typed), no permission, in use — never "garbled answers".
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPortPath } from '../../src-main/flash/open-port.ts';
import { toFlashError } from '../../src-main/flash/errors.ts';

const cause = (path: string) => {
  try {
    checkPortPath(path);
    return 'ok';
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

describe('port path checks (before anything is opened)', () => {
  it('say what the path is when it cannot be a serial port', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-port-'));
    writeFileSync(join(dir, 'profile.json'), '{}');
    expect(cause(dir)).toBe(`not-a-port: ${dir} is not a serial port (it is a folder) — pick the board's port (factory-station ports lists them)`);
    expect(cause(join(dir, 'profile.json'))).toMatch(/^not-a-port: .* \(it is a regular file\)/);
    expect(cause('/dev/null')).toMatch(/^not-a-port: \/dev\/null is not a serial port \(it is a memory device such as \/dev\/null\)/);
    expect(cause(join(dir, 'ttyUSB7'))).toMatch(/^port-not-found: Serial port .*ttyUSB7 does not exist — /);
    expect(cause('null')).toMatch(/^port-not-found: Serial port null does not exist \(did you mean \/dev\/null\?\)/);
    expect(cause('/dev/tty')).toBe('ok'); // a character device that can be a terminal
  });

  it('map what the system says on open to the cause', () => {
    const code = (msg: string) => toFlashError(new Error(msg), { port: '/dev/ttyUSB0' }).code;
    expect(code('Error: Permission denied, cannot open /dev/ttyUSB0')).toBe('port-permission');
    expect(code('Error: Resource temporarily unavailable Cannot lock port')).toBe('port-busy');
    expect(code('Error: No such file or directory, cannot open /dev/ttyUSB0')).toBe('port-not-found');
    expect(code('Error: Is a directory, cannot open /tmp')).toBe('not-a-port');
    expect(code('Failed to connect with the device')).toBe('no-download-mode');
  });
});
