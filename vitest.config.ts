import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // expect.poll waits for what the code does, not for a deadline: on a loaded 2-core machine a
    // Chromium print or a page update can take seconds. A real failure still fails, just later.
    expect: { poll: { timeout: 20_000, interval: 50 } },
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores here: keep parallel files bounded so timing-based tests are not starved.
    maxWorkers: 2,
  },
});
