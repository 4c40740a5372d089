import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests open real loopback sockets; two workers match our 2-core machines.
    maxWorkers: 2,
    // Acceptance tests run bin/comic.js, which loads the compiled dist/.
    globalSetup: ['test/support/build-dist.ts'],
  },
});
