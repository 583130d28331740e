import { defineConfig } from 'vitest/config';
import { testRunStore } from './test/setup/run-store.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // runs recorded by commands the tests start go to a store of this test run, not the project's
    env: { FLOWLM_STORE: testRunStore() },
    globalSetup: ['./test/setup/run-store.ts'],
    // vitest's default is one file at a time on 2 cores (cores - 1); most files wait on the child
    // processes and servers they start, so two at once keep both cores busy
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
