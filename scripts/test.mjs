#!/usr/bin/env node
// npm test: type-check, build the app bundles, run every test, and end with the plain
// "N passed, N failed" line CI reads. The exit status is the worst of the steps. Type-check and
// build print one line each when they pass (their full output only when they fail), so the
// test output is the tests'. `npm run test:fast` passes `--project fast` (skips the slow project).
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';

/** Runs a step with its output captured: one line when it passes, everything when it fails. */
function quietStep(name, cmd, args) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const status = r.status ?? 1;
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (status === 0) {
    process.stdout.write(`== ${name}: ok (${took})\n`);
  } else {
    process.stdout.write(`== ${name}: FAILED (${took})\n${r.stdout ?? ''}${r.stderr ?? ''}\n`);
  }
  return status;
}

mkdirSync('test-results', { recursive: true });
let status = 0;
status ||= quietStep('type-check', 'npm', ['run', '--silent', 'typecheck']);
if (existsSync('electron.vite.config.ts')) status ||= quietStep('build', 'npm', ['run', '--silent', 'build']);
const extra = process.argv.slice(2);
process.stdout.write('\n== tests\n');
const testRun = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...extra], { stdio: 'inherit' });
const testStatus = testRun.status ?? 1;
let passed = 0, failed = 0;
try {
  const r = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed = r.numPassedTests; failed = r.numFailedTests;
} catch { failed = Math.max(failed, 1); }
if (status !== 0 && failed === 0) failed = 1; // a failed type-check or build counts as a failure
console.log(`${passed} passed, ${failed} failed`);
process.exit(status || testStatus);
