// The commit a run was made from and whether the work tree had uncommitted changes (tracked files only:
// a run's own outputs are usually untracked). Null outside a git work tree or without git.
import { execFileSync } from 'node:child_process';
import type { GitState } from './store.ts';

export function gitState(cwd = process.cwd()): GitState {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    let dirty: boolean | null = null;
    try {
      dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    } catch {}
    return { commit, dirty };
  } catch {
    return { commit: null, dirty: null };
  }
}
