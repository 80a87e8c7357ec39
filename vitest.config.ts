import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Worker threads load the compiled worker from dist/; build it once per run.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Suites start real worker pools and child processes; two at a time suits two cores.
    maxWorkers: 2,
  },
});
