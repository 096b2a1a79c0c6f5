import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

/**
 * The files that take longest (measured alone on the 2-core CI machine, longest first). They start
 * first, so the two workers finish together instead of one running a minute-long file alone at
 * the end; the rest follow in Vitest's own order (cached durations, else file size).
 */
const LONGEST_FIRST = [
  'test/line/line.test.ts', // 65 s
  'test/registry/db-copy.test.ts',
  'test/ui/layout.test.ts',
  'test/station/crash-safety.test.ts',
  'test/station/serials-2000.test.ts',
  'test/ui/station.test.ts',
  'test/line/line-kill.test.ts',
  'test/app/database.test.ts', // mostly waiting for a stopped server: pairs well with the busy ones
  'test/ui/bench.test.ts',
  'test/line/line-outage.test.ts',
  'test/homekit/pair-setup.test.ts',
  'test/ui/line-db.test.ts',
  'test/station/replug-faults.test.ts',
  'test/station/pool-scale.test.ts',
  'test/batch/batch-200.test.ts', // ~6 s
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.indexOf(relative(import.meta.dirname, f.moduleId));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return base.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    // Timeouts only catch hangs (speed is measured in `npm run bench`): generous, so that a shared
    // machine under load (a second process saturating both cores) slows tests without failing them.
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // expect.poll waits for what the code does, not for a deadline: on a loaded 2-core machine a
    // Chromium print or a page update can take seconds. A real failure still fails, just later.
    expect: { poll: { timeout: 20_000, interval: 50 } },
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    // Two cores here: keep parallel files bounded so timing-based tests are not starved.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
