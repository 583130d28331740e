// The run store the commands started by the tests record into: a file of this test run (FLOWLM_STORE,
// set in vitest.config.ts), not the project's .flowlm/runs.sqlite; vitest's global setup removes it,
// with its WAL files, when the run ends.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Evaluated in vitest's main process, by the config and by the global setup alike. */
export const testRunStore = (): string => join(tmpdir(), `flowlm-vitest-runs-${process.pid}.sqlite`);

export default function setup(): () => void {
  const path = testRunStore();
  return () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  };
}
