// npm start (scripts/start.mjs): without the Electron runtime one clear paragraph and exit 1 (not
// Electron's stack traces and its advice to download); with a runtime, it is launched on the app.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function start(electronDir: string, ...args: string[]) {
  return spawnSync(process.execPath, ['scripts/start.mjs', '--no-build', ...args], { encoding: 'utf8', env: { ...process.env, HKFS_ELECTRON_DIR: electronDir, ELECTRON_OVERRIDE_DIST_PATH: '' } });
}

describe('npm start', () => {
  it('without the Electron runtime: one paragraph with the way to install it and the offline alternatives', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-noelectron-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '45.4.1' }));
    const r = start(dir, '--demo');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('Electron runtime (45.4.1)');
    expect(r.stderr).toContain('node node_modules/electron/install.js');
    expect(r.stderr).toContain('npm run preview');
    expect(r.stderr).toContain('factory-station demo');
    expect(r.stderr).not.toMatch(/\n\s+at |Error:|delete `node_modules\/electron`/);
  });

  it('with a runtime: launches it on the app folder with the arguments given', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hkfs-fakeelectron-'));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'path.txt'), 'electron');
    writeFileSync(join(dir, 'dist', 'electron'), '#!/bin/sh\necho "launched: $*"\n');
    chmodSync(join(dir, 'dist', 'electron'), 0o755);
    const r = start(dir, '--demo');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('launched: . --demo\n');
  });
});
