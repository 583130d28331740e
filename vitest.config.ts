import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // runs recorded by commands the tests start go to a store of this test run, not the project's
    env: { FLOWLM_STORE: join(tmpdir(), `flowlm-vitest-runs-${process.pid}.sqlite`) },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
