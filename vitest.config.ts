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
          exclude: ['test/cluster/**', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // Needs Docker and builds/creates a kind cluster: `npm run test:cluster`, run by .ci/run.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          testTimeout: 45 * 60_000,
          hookTimeout: 10 * 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'suites',
          include: ['suites/*.test.ts'],
          setupFiles: ['suites/lib/mask-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Suites share one gateway and its rate-limit windows: run them one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
