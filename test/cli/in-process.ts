// `flowlm ARGS` run in this process through the same dispatch bin.js calls (no process start-up to
// pay), with stdout and stderr captured.
import { main } from '../../src/cli/main.ts';
import type { CliResult } from './spawn.ts';

export async function callMain(argv: string[]): Promise<Pick<CliResult, 'code' | 'stdout' | 'stderr'>> {
  let stdout = '',
    stderr = '';
  const code = await main(argv, {
    out: (t) => {
      stdout += `${t}\n`;
    },
    err: (t) => {
      stderr += `${t}\n`;
    },
    stderr: process.stderr,
  });
  return { code, stdout, stderr };
}
