import { defineConfig } from 'vitest/config';

// Two projects: `unit` is the project's own tests (npm test); `suites` are the
// end-to-end behaviours the harness runs against a target (scripts/suite-runner.ts).
export default defineConfig({
  test: {
    reporters: ['default', './test/closing-line-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'suites',
          include: ['suites/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Suites share one gateway and its rate-limit windows: run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
