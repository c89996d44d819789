import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The generated plugins are built, linted, type-checked and tested for real: a few tsc runs on two shared cores.
  test: { include: ['src/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
