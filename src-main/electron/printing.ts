// Label output through Chromium's print pipeline: a hidden, sandboxed window (no preload) loads the
// label page from the app protocol; then a silent print to the chosen printer at the label size, or
// printToPDF with the page's @page size. Errors are passed up, never swallowed: the unit then
// stays "label pending" until a print succeeds.
import { BrowserWindow, type WebContents } from 'electron';
import { writeFileAtomic } from '../fs/index.ts';
import type { PrinterChoice } from '../../shared/ipc.ts';
import { APP_ORIGIN, hardenedWebPreferences } from '../app/security.ts';
import { labelPdfOptions, silentPrintOptions, type LabelJob, type LabelPageStore } from '../app/label-page.ts';

export class LabelPrinter {
  constructor(
    private readonly pages: LabelPageStore,
    private readonly printersFrom: () => WebContents | null,
  ) {}

  async listPrinters(): Promise<PrinterChoice[]> {
    const wc = this.printersFrom();
    if (!wc) return [];
    const printers = await wc.getPrintersAsync();
    return printers.map((p) => {
      const options = (p.options ?? {}) as Record<string, unknown>;
      return { name: p.name, displayName: p.displayName || p.name, isDefault: options['is-default'] === 'true' || options.isDefault === true };
    });
  }

  /** Loads the label page in a fresh hidden window, runs `use`, and always closes the window. */
  private async withLabelWindow<T>(job: LabelJob, use: (wc: WebContents) => Promise<T>): Promise<T> {
    const { id, htmlPath } = this.pages.add(job);
    const win = new BrowserWindow({
      show: false,
      width: 800,
      height: 600,
      webPreferences: { ...hardenedWebPreferences(''), preload: undefined, devTools: false },
    });
    win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // The label page never goes anywhere: navigation, frame navigation and redirects are refused.
    win.webContents.on('will-navigate', (event) => event.preventDefault());
    win.webContents.on('will-frame-navigate', (event) => event.preventDefault());
    win.webContents.on('will-redirect', (event) => event.preventDefault());
    try {
      // loadURL settles after the load event, i.e. once the label image is decoded.
      await win.loadURL(`${APP_ORIGIN}${htmlPath}`);
      return await use(win.webContents);
    } finally {
      this.pages.remove(id);
      if (!win.isDestroyed()) win.destroy();
    }
  }

  print(job: LabelJob, printerName: string): Promise<void> {
    return this.withLabelWindow(job, (wc) =>
      new Promise<void>((resolve, reject) => {
        wc.print(silentPrintOptions(printerName, job.size), (success, failureReason) => {
          if (success) resolve();
          else reject(new Error(`printer "${printerName}" reported: ${failureReason || 'unknown failure'}`));
        });
      }),
    );
  }

  savePdf(job: LabelJob, path: string): Promise<void> {
    return this.withLabelWindow(job, async (wc) => {
      const pdf = await wc.printToPDF(labelPdfOptions());
      // Atomic, exclusive temp file, mode 0600: a symlink planted at `path` is replaced, never written through.
      await writeFileAtomic(path, pdf, 0o600);
    });
  }
}
