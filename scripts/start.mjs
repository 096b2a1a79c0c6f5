#!/usr/bin/env node
// npm start: build the app bundles, then launch Electron on them — or, when the Electron runtime is
// not installed (npm ci never downloads it: it comes from github.com, not the npm registry, and
// Electron's install script is off in package.json), say so in one paragraph with the way to
// install it and the offline alternatives, instead of Electron's own stack traces.
// `--no-build` skips the build (tests). HKFS_ELECTRON_DIR points at another electron package folder (tests).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const appArgs = args.filter((a) => a !== '--no-build');
const electronDir = resolve(process.env.HKFS_ELECTRON_DIR ?? 'node_modules/electron');

/** The Electron executable, or null when the runtime was never downloaded. */
function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) return join(process.env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : null;
}

function version() {
  try {
    return JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
  } catch {
    return 'the version in package.json';
  }
}

if (build) {
  const r = spawnSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['electron-vite', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const exe = electronBinary();
if (!exe) {
  process.stderr.write(
    `npm start needs the Electron runtime (${version()}), and it is not installed: npm ci does not download it ` +
      '(it comes from github.com, not from the npm registry, and Electron\'s install script is turned off in package.json). ' +
      'On a machine with internet access run `node node_modules/electron/install.js` once, then `npm start` again. ' +
      'Without internet: `npm run preview` shows the same operator screen in your browser with virtual boards, and ' +
      '`npx factory-station demo` runs the whole flow (batch, pool, three boards, labels, history) on the command line.\n',
  );
  process.exit(1);
}
const child = spawn(exe, ['.', ...appArgs], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
