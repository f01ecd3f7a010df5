import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real-time audio tests measure wall-clock behaviour; two cores cannot run many of them at once.
    maxWorkers: 2,
    // Concurrent end-to-end calls in one file are mostly waiting on real-time audio.
    maxConcurrency: 10,
    pool: 'forks',
  },
});
