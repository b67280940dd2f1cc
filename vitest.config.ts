import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single fork on the 2-core CI machine.
    // Most of the long files wait on child processes and sockets, so two forks overlap them.
    maxWorkers: 2,
  },
});
