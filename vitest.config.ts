import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/support/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A temp dir per run, checked for leftovers at the end.
    globalSetup: ['test/support/temp-root.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real processes: keep the 2-core machine from drowning in parallel files.
    maxWorkers: 2,
    reporters: ['default', new SummaryReporter()],
  },
});
