// `npm run preview` entry: the real station services (AppCore in demo mode, virtual chips at line
// speed) behind the operator UI in your own browser — no Electron, no hardware. Prints the address
// (with its access token) and the data folder; Ctrl-C stops it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AppCore, type Platform } from '../app/app-core.ts';
import { createHandlers } from '../app/handlers.ts';
import { ensureDirSync, writeFileAtomic } from '../fs/index.ts';
import { DEMO_CHIPS, type DemoChipKind } from '../../shared/ipc.ts';
import { startPreview } from './server.ts';

const USAGE = `usage: npm run preview [-- --port N] [--data-dir DIR] [--boards N]

Serves the operator UI on http://127.0.0.1 with the real station services and N virtual boards
(default 4, at most 8) — open the printed address (it carries the access token) in a browser.
Labels are saved as PDF files in the data folder (default: a new folder under ${tmpdir()}).
`;

/** What only Electron can do, done the preview's way: no dialogs, no printers, PDFs copied. */
function previewPlatform(dataDir: string): Platform {
  return {
    pickFile: async () => null,
    pickManifestPath: async (name) => resolve(dataDir, name),
    pickPoolManifest: async () => null,
    listPrinters: async () => [],
    printLabel: async () => {
      throw new Error('the preview has no printers (the desktop app prints; here labels are saved as PDF)');
    },
    saveLabelPdf: async (job, path) => {
      if (!job.pdfPath) throw new Error('no label PDF to save');
      await writeFileAtomic(path, readFileSync(job.pdfPath), 0o600);
    },
  };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, boards: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`preview: ${(err as Error).message.split('\n')[0]}\n(try --help)\n`);
    return 2;
  }
  if (values.help) return (process.stdout.write(USAGE), 0);
  const boards = Number(values.boards ?? 4);
  const port = Number(values.port ?? 0);
  if (!Number.isInteger(boards) || boards < 1 || boards > 8) return (process.stderr.write('preview: --boards takes a whole number from 1 to 8\n'), 2);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return (process.stderr.write('preview: --port takes a port number (0 = any free one)\n'), 2);
  const dataDir = values['data-dir'] ? resolve(values['data-dir']) : mkdtempSync(resolve(tmpdir(), 'hkfs-preview-'));
  ensureDirSync(dataDir, 0o700);
  const core = await AppCore.open({ dataDir, demo: true, demoPacing: true, platform: previewPlatform(dataDir), stationName: 'preview', operator: 'preview', portBinding: { list: async () => [] } });
  const kinds: readonly DemoChipKind[] = DEMO_CHIPS;
  for (let i = core.snapshot().tiles.length; i < boards; i++) core.addDemoChip(kinds[i % kinds.length]!);
  const preview = await startPreview({ rendererRoot: resolve('out/renderer'), handlers: createHandlers(core), subscribe: (cb) => core.on(cb), port });
  process.stdout.write(`HomeKit Factory Station preview — ${boards} virtual board(s), data in ${dataDir}\nOpen ${preview.url}\n(Ctrl-C stops it.)\n`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  await preview.close();
  await core.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`preview: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
