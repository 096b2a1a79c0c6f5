// Electron entry: one hardened window, the UI served from station://app (with the CSP as a response
// header too), the station services running here in main behind validated IPC.
//   npm start                  (hardware)     npm start -- --demo   (virtual chips)
import { app, dialog, protocol, type BrowserWindow } from 'electron';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostname, userInfo } from 'node:os';
import type { ProfileFileKind } from '../../shared/ipc.ts';
import { AppCore } from '../app/app-core.ts';
import { createHandlers } from '../app/handlers.ts';
import { LabelPageStore } from '../app/label-page.ts';
import { APP_SCHEME, contentTypeFor, guardNavigation, parseAppArgs, resolveAppAsset, securityHeaders } from '../app/security.ts';
import { registerIpc, sendEvent } from './ipc.ts';
import { LabelPrinter } from './printing.ts';
import { createMainWindow } from './window.ts';


protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);
// Every renderer sandboxed, whatever its webPreferences say (must run before 'ready').
app.enableSandbox();

const args = parseAppArgs(process.argv.slice(1));
if (args.dataDir) app.setPath('userData', args.dataDir);
if (!app.requestSingleInstanceLock()) app.quit();

const rendererRoot = join(import.meta.dirname, '../renderer');
const preloadPath = join(import.meta.dirname, '../preload/preload.cjs');
const labelPages = new LabelPageStore();
let mainWindow: BrowserWindow | null = null;

function registerAppProtocol(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const label = url.host === 'app' ? labelPages.respond(url.pathname) : null;
    if (label) return new Response(label.body, { headers: securityHeaders(label.contentType) });
    const file = resolveAppAsset(request.url, rendererRoot);
    if (!file) return new Response('Not found', { status: 404, headers: securityHeaders('text/plain') });
    try {
      return new Response(await readFile(file), { headers: securityHeaders(contentTypeFor(file)) });
    } catch {
      return new Response('Not found', { status: 404, headers: securityHeaders('text/plain') });
    }
  });
}

const FILE_FILTERS: Record<ProfileFileKind, { title: string; filters: Electron.FileFilter[] }> = {
  partitionTable: { title: 'Partition table (CSV or binary)', filters: [{ name: 'Partition table', extensions: ['csv', 'bin'] }] },
  flasherArgs: { title: 'flasher_args.json from the firmware build', filters: [{ name: 'flasher_args.json', extensions: ['json'] }] },
  customCsv: { title: 'Custom NVS data (CSV)', filters: [{ name: 'CSV', extensions: ['csv'] }] },
  keysFile: { title: 'NVS encryption keys (nvs_keys .bin)', filters: [{ name: 'Keys partition', extensions: ['bin'] }] },
};

async function start(): Promise<void> {
  registerAppProtocol();
  const printer = new LabelPrinter(labelPages, () => mainWindow?.webContents ?? null);
  const core = await AppCore.open({
    dataDir: app.getPath('userData'),
    demo: args.demo,
    stationName: hostname(),
    // A line's station may be pointed at the shared registry from outside (a file path or postgres:// URL).
    database: process.env.STATION_DB || undefined,
    operator: userInfo().username,
    watchPorts: true,
    platform: {
      async pickFile(kind) {
        const spec = FILE_FILTERS[kind];
        const r = mainWindow
          ? await dialog.showOpenDialog(mainWindow, { title: spec.title, filters: spec.filters, properties: ['openFile'] })
          : await dialog.showOpenDialog({ title: spec.title, filters: spec.filters, properties: ['openFile'] });
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
      },
      async pickManifestPath(defaultName) {
        const options = { title: 'Export production manifest', defaultPath: defaultName, filters: [{ name: 'CSV', extensions: ['csv'] }] };
        const r = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      async pickPoolManifest() {
        const options = { title: 'Import a batch manifest', filters: [{ name: 'Batch manifest', extensions: ['json'] }], properties: ['openFile' as const] };
        const r = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
        return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0]!;
      },
      listPrinters: () => printer.listPrinters(),
      printLabel: (job, name) => printer.print(job, name),
      saveLabelPdf: (job, path) => printer.savePdf(job, path),
    },
  });
  const unregister = registerIpc(createHandlers(core), () => mainWindow?.webContents ?? null);
  const off = core.on((event) => sendEvent(mainWindow?.webContents ?? null, event));

  mainWindow = createMainWindow(preloadPath);
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
  app.on('second-instance', () => mainWindow?.focus());
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => {
    off();
    unregister();
    void core.close();
  });
}

app.on('web-contents-created', (_event, contents) => {
  // Belt and braces for any window we did not create ourselves.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  guardNavigation(contents);
});

app.whenReady().then(start).catch((err: unknown) => {
  dialog.showErrorBox('HomeKit Factory Station could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
