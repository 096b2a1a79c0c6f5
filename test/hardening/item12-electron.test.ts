// Issue 13, item 12: the Electron checklist gaps. Electron cannot run here, so the entry points
// run against a recording stand-in of the 'electron' module: the sandbox is enabled for every
// renderer before the app is ready, DevTools exist only in development, every web contents (the
// hidden print window included) refuses navigation, frame navigation and redirects, and the label
// PDF is written atomically without following a symlink.
import { describe, expect, it, vi } from 'vitest';
import { lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { tempDir } from './helpers.ts';

const calls: string[] = [];
const handlers = new Map<string, (...a: unknown[]) => unknown>();
const windows: FakeContents[] = [];

class FakeContents extends EventEmitter {
  listeners_ = new Map<string, (...a: unknown[]) => void>();
  setWindowOpenHandler() {}
  override on(event: string, fn: (...a: unknown[]) => void): this {
    this.listeners_.set(event, fn);
    return super.on(event, fn);
  }
  async printToPDF() {
    return Buffer.from('%PDF-1.7 label');
  }
}

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = new FakeContents();
    constructor() {
      windows.push(this.webContents);
    }
    async loadURL() {}
    isDestroyed() {
      return false;
    }
    destroy() {}
    on() {}
    once() {}
  }
  const app = {
    isPackaged: true,
    enableSandbox: () => calls.push('enableSandbox'),
    setPath: () => undefined,
    requestSingleInstanceLock: () => true,
    quit: () => undefined,
    on: (event: string, fn: (...a: unknown[]) => unknown) => handlers.set(event, fn),
    whenReady: () => {
      calls.push('whenReady');
      return new Promise(() => undefined);
    },
    getPath: () => '/nonexistent',
  };
  return {
    app,
    BrowserWindow,
    dialog: { showErrorBox: () => undefined },
    protocol: { registerSchemesAsPrivileged: () => undefined, handle: () => undefined },
    session: { defaultSession: {} },
    ipcMain: { handle: () => undefined, removeHandler: () => undefined },
    default: {},
  };
});

describe('item 12: Electron checklist', () => {
  it('item 12: sandbox for all renderers, no DevTools when packaged, navigation/frame/redirect guards, atomic label PDF', async () => {
    process.env.STATION_DEVTOOLS = '1';
    try {
      await import('../../src-main/electron/main.ts');
      expect(calls.indexOf('enableSandbox')).toBeGreaterThanOrEqual(0);
      expect(calls.indexOf('enableSandbox')).toBeLessThan(calls.indexOf('whenReady'));

      const { hardenedWebPreferences, devToolsAllowed } = await import('../../src-main/app/security.ts');
      expect(hardenedWebPreferences('/p.cjs').devTools).toBe(false);
      expect(devToolsAllowed(true, { STATION_DEVTOOLS: '1' })).toBe(false);
      expect(devToolsAllowed(false, { STATION_DEVTOOLS: '1' })).toBe(true);
      expect(devToolsAllowed(false, {})).toBe(false);

      // every web contents: navigation, frame navigation and redirects away from the app are refused
      const contents = new FakeContents();
      handlers.get('web-contents-created')!({}, contents);
      for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
        const guard = contents.listeners_.get(event);
        expect(guard, event).toBeTypeOf('function');
        let prevented = false;
        guard!({ preventDefault: () => (prevented = true), url: 'https://evil.example/' }, 'https://evil.example/');
        expect(prevented, event).toBe(true);
      }

      // the hidden print window has its own guards, and the PDF goes through the atomic writer
      const { LabelPrinter } = await import('../../src-main/electron/printing.ts');
      const { LabelPageStore } = await import('../../src-main/app/label-page.ts');
      const dir = tempDir('item12');
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'untouched');
      const target = join(dir, 'label.pdf');
      symlinkSync(victim, target);
      await new LabelPrinter(new LabelPageStore(), () => null).savePdf({ svg: '<svg xmlns="http://www.w3.org/2000/svg"/>', size: { widthMm: 40, heightMm: 30 } }, target);
      const printWindow = windows.at(-1)!;
      for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) expect(printWindow.listeners_.has(event), event).toBe(true);
      expect(readFileSync(victim, 'utf8')).toBe('untouched');
      expect(lstatSync(target).isFile()).toBe(true);
      expect(lstatSync(target).mode & 0o777).toBe(0o600);
    } finally {
      delete process.env.STATION_DEVTOOLS;
    }
  });
});
