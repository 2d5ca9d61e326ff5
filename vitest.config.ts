import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // two cores: files run in parallel workers, each on its own database file
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
