import { defineConfig } from 'vitest/config';

/**
 * The slow end-to-end files (browser, subprocess kills, many handshakes, real timeouts): a project
 * of their own, so `npm run test:fast` can skip them while working; `npm test` runs both.
 */
const SLOW = [
  // issue 15: the production line on a throw-away PostgreSQL cluster (station processes, kills, a server outage, 10 000-unit copies)
  'test/line/**/*.test.ts',
  'test/registry/db-copy.test.ts',
  'test/ui/**/*.test.ts',
  'test/station/crash-safety.test.ts',
  'test/station/replug-faults.test.ts',
  'test/station/provision-50.test.ts',
  'test/station/serials-2000.test.ts',
  'test/homekit/pair-setup.test.ts',
  'test/flash/faults.test.ts',
  'test/batch/batch-200.test.ts',
  'test/batch/interrupt.test.ts',
  'test/batch/resume.test.ts',
  'test/readme/commands.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for what the code does, not for a deadline: on a loaded 2-core machine a
    // Chromium print or a page update can take seconds. A real failure still fails, just later.
    expect: { poll: { timeout: 20_000, interval: 50 } },
    pool: 'forks',
    // Two cores here: keep parallel files bounded so timing-based tests are not starved.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
