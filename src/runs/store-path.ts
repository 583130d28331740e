// Where the run store is: `--store PATH`, else FLOWLM_STORE, else `.flowlm/runs.sqlite` in the
// project directory (the working directory), one file per project like MLflow's ./mlruns.
import { resolve } from 'node:path';

export const DEFAULT_STORE = '.flowlm/runs.sqlite';

export function storePath(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? env.FLOWLM_STORE ?? DEFAULT_STORE);
}

/** `--store PATH` / `--store=PATH` taken out of argv (every command accepts it). */
export function takeStoreFlag(argv: readonly string[]): { argv: string[]; store?: string } {
  const out: string[] = [];
  let store: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a === '--store' && i + 1 < argv.length) store = argv[++i];
    else if (a.startsWith('--store=')) store = a.slice('--store='.length);
    else out.push(a);
  }
  return { argv: out, store };
}
