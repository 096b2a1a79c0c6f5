// Window and protocol policy (pure, no Electron): hardened webPreferences, CSP, the app-protocol
// file resolver, sender and navigation checks, argument parsing and validators.
import { describe, expect, it } from 'vitest';
import { join, resolve } from 'node:path';
import {
  APP_ENTRY_URL, CONTENT_SECURITY_POLICY, contentTypeFor, hardenedWebPreferences, isAllowedNavigation, isPermissionGranted,
  isTrustedSender, parseAppArgs, resolveAppAsset, securityHeaders,
} from '../../src-main/app/security.ts';
import * as v from '../../src-main/app/validate.ts';

describe('window security policy', () => {
  it('webPreferences keep every hardening flag on', () => {
    expect(hardenedWebPreferences('/p.cjs')).toMatchObject({
      preload: '/p.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, webSecurity: true, allowRunningInsecureContent: false, webviewTag: false,
    });
  });

  it('CSP forbids inline styles/scripts and is sent as a header', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("style-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(securityHeaders('text/html')).toMatchObject({ 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' });
  });

  it('the app protocol serves files under the renderer root only', () => {
    const root = resolve('out/renderer');
    expect(resolveAppAsset('station://app/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppAsset('station://app/assets/index.js', root)).toBe(join(root, 'assets', 'index.js'));
    // Dot segments are folded by URL parsing (they stay inside the root); encoded ones never escape.
    expect(resolveAppAsset('station://app/../package.json', root)).toBe(join(root, 'package.json'));
    for (const bad of ['station://app/..%2f..%2fpackage.json', 'station://app/%2e%2e%2f%2e%2e%2fetc/passwd', 'station://app/a%5c..%5c..%5cx', 'station://evil/index.html', 'https://app/index.html', 'station://app/%00']) {
      expect(resolveAppAsset(bad, root), bad).toBeNull();
    }
    expect(contentTypeFor('x/index.js')).toMatch(/javascript/);
    expect(contentTypeFor('x/a.exe')).toBe('application/octet-stream');
  });

  it('IPC answers only our own top-level page; navigation never leaves the app', () => {
    expect(isTrustedSender(APP_ENTRY_URL, true)).toBe(true);
    expect(isTrustedSender(APP_ENTRY_URL, false)).toBe(false);
    expect(isTrustedSender('https://example.com/', true)).toBe(false);
    expect(isTrustedSender('file:///etc/passwd', true)).toBe(false);
    expect(isTrustedSender(undefined, true)).toBe(false);
    expect(isAllowedNavigation('https://station.app/')).toBe(false);
    expect(isPermissionGranted('serial')).toBe(false);
    expect(isPermissionGranted('usb')).toBe(false);
    expect(isPermissionGranted('hid')).toBe(false);
  });

  it('command line: --demo and --data-dir', () => {
    expect(parseAppArgs(['.', '--demo'])).toEqual({ demo: true, dataDir: null });
    expect(parseAppArgs(['--data-dir=/tmp/x'])).toEqual({ demo: false, dataDir: '/tmp/x' });
  });
});

describe('argument validators', () => {
  it('port paths', () => {
    for (const ok of ['/dev/ttyUSB0', '/dev/cu.usbserial-1420', 'COM3', 'virtual:esp32-1']) expect(v.portPath(ok)).toBe(ok);
    for (const bad of ['', 'virtual:../x', '/dev/tty USB0', 'C:\\Windows', 'x'.repeat(300), 7, null]) expect(() => v.portPath(bad)).toThrow(v.ValidationError);
  });

  it('profile file names cannot leave the profiles folder', () => {
    expect(v.profileFileName('my-plug.json')).toBe('my-plug.json');
    for (const bad of ['../x.json', 'a/b.json', '.hidden.json', 'x.js', 'x.json\n']) expect(() => v.profileFileName(bad)).toThrow(v.ValidationError);
  });

  it('history filters, settings, PINs and plain data', () => {
    expect(v.historyFilter({ mac: '24:0A', setupId: 'ab12', status: 'done', from: '2026-01-01', to: '', limit: 10 })).toEqual({ mac: '24:0A', setupId: 'AB12', status: 'done', from: '2026-01-01', limit: 10 });
    expect(() => v.historyFilter({ from: '1/1/2026' })).toThrow(/filter.from/);
    expect(() => v.historyFilter([])).toThrow(/filter/);
    expect(v.settingsPatch({ autoProvision: true })).toEqual({ autoProvision: true });
    expect(() => v.settingsPatch({ autoProvision: 'yes' })).toThrow(/autoProvision/);
    expect(v.pin('0420')).toBe('0420');
    expect(() => v.pin('123')).toThrow(v.ValidationError);
    expect(v.pinOrNull(null)).toBeNull();
    const copy = v.jsonData({ a: [1, { b: 'c' }] }, 'x');
    expect(copy).toEqual({ a: [1, { b: 'c' }] });
    expect(() => v.jsonData({ big: 'x'.repeat(100) }, 'x', 50)).toThrow(/larger/);
    expect(() => v.plainObject(new Date(), 'x')).toThrow(/plain object/);
  });
});
