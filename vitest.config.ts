import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/support/summary-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real processes: keep the 2-core machine from drowning in parallel files.
    maxWorkers: 2,
    reporters: ['default', new SummaryReporter()],
  },
});
