import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@certsmith/source'] },
  // Vitest's default is one worker per core but one (a single worker on CI's 2 cores): the e2e files mostly wait on
  // the lab's servers and the CLI's subprocesses (a serial run used ~0.4 of a core), so several run at once.
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000, maxWorkers: 4 },
});
