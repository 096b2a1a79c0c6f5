#!/usr/bin/env node
// npm test: type-check, build the app bundles, run every test, and end with the plain
// "N passed, N failed" line CI reads. The exit status is the worst of the steps.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';

function step(name, cmd, args) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

mkdirSync('test-results', { recursive: true });
let status = 0;
status ||= step('type-check', 'npm', ['run', '--silent', 'typecheck']);
if (existsSync('electron.vite.config.ts')) status ||= step('build', 'npm', ['run', '--silent', 'build']);
const extra = process.argv.slice(2);
const testStatus = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...extra]);
let passed = 0, failed = 0;
try {
  const r = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed = r.numPassedTests; failed = r.numFailedTests;
} catch { failed = Math.max(failed, 1); }
if (status !== 0 && failed === 0) failed = 1; // a failed type-check or build counts as a failure
console.log(`${passed} passed, ${failed} failed`);
process.exit(status || testStatus);
