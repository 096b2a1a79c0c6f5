// Packaging can't download Electron here, so we validate electron-builder.yml offline: package the
// built app into a stand-in Electron folder and inspect what an installer would contain.
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPackage, extractFile } from '@electron/asar';

const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
// Electron's fuse order (wire v1): RunAsNode, CookieEncryption, NodeOptions, NodeCliInspect,
// AsarIntegrity, OnlyLoadAppFromAsar, BrowserV8Snapshot, GrantFileProtocolExtraPrivileges.
const STOCK_FUSES = '10110001'; // Electron's defaults, which our config must flip
const WANTED_FUSES = '01001100';

function standInElectron(dir: string): void {
  mkdirSync(join(dir, 'locales'), { recursive: true });
  mkdirSync(join(dir, 'resources'), { recursive: true });
  writeFileSync(join(dir, 'locales', 'en-US.pak'), '');
  const wire = Buffer.concat([Buffer.from('#!/bin/sh\nexit 0\n'), Buffer.from(FUSE_SENTINEL), Buffer.from([1, 8]), Buffer.from(STOCK_FUSES)]);
  writeFileSync(join(dir, 'electron'), wire);
  chmodSync(join(dir, 'electron'), 0o755);
}

describe('electron-builder configuration (offline, stand-in Electron)', () => {
  const work = mkdtempSync(join(tmpdir(), 'hkfs-pack-'));
  const unpacked = join(work, 'release', 'linux-unpacked');
  let log = '';

  beforeAll(() => {
    if (!existsSync('out/main/main.js')) spawnSync('npx', ['electron-vite', 'build'], { stdio: 'ignore' });
    standInElectron(join(work, 'electron'));
    const r = spawnSync('npx', ['electron-builder', '--linux', '--dir',
      '--config.npmRebuild=false', `--config.electronDist=${join(work, 'electron')}`,
      `--config.directories.output=${join(work, 'release')}`], { encoding: 'utf8' });
    log = `${r.stdout}\n${r.stderr}`;
    expect(r.status, log).toBe(0);
  }, 180_000);

  it('packs the built main, preload and renderer and the right entry point', () => {
    const files = listPackage(join(unpacked, 'resources', 'app.asar'), { isPack: false });
    for (const f of ['/out/main/main.js', '/out/preload/preload.cjs', '/out/renderer/index.html', '/package.json']) {
      expect(files).toContain(f);
    }
    const pkg = JSON.parse(extractFile(join(unpacked, 'resources', 'app.asar'), 'package.json').toString());
    expect(pkg.main).toBe('out/main/main.js');
    expect(existsSync(join(unpacked, 'resources', 'app.asar'))).toBe(true);
  });

  it('ships no devDependencies and keeps native modules outside the archive', () => {
    const files = listPackage(join(unpacked, 'resources', 'app.asar'), { isPack: false });
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    // A devDependency may legitimately ship when a runtime dependency needs it too (qrcode -> pngjs).
    const prodTree = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { encoding: 'utf8' }).stdout;
    const devOnly = Object.keys(pkg.devDependencies).filter((d) => !prodTree.includes(`/node_modules/${d}\n`));
    expect(devOnly).toContain('vitest');
    const leaked = devOnly.filter((d) => files.some((f) => f.startsWith(`/node_modules/${d}/`)));
    expect(leaked).toEqual([]);
    for (const dep of ['better-sqlite3', 'serialport', 'esptool-js']) {
      expect(files.some((f) => f.startsWith(`/node_modules/${dep}/`)), dep).toBe(true);
    }
    expect(existsSync(join(unpacked, 'resources', 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).toBe(true);
  });

  it('flips the Electron fuses the security checklist asks for', () => {
    const bin = readFileSync(join(unpacked, 'homekit-factory-station'));
    const at = bin.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    expect(bin[at]).toBe(1);
    expect(bin.subarray(at + 2, at + 2 + 8).toString()).toBe(WANTED_FUSES);
  });
});
