// Which checkpoint of a run is the latest, and housekeeping of the run directory. `latest.json` names
// the step directory written last (after a resume from an earlier step, higher-numbered directories of
// the abandoned trajectory may remain, so the highest number is not always the latest). When it is
// missing or names a directory that is gone, the highest complete step directory stands in.
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AtomicFile } from '../../runtime/files.ts';
import { syncDir } from './durable.ts';
import {
  deletingDirName,
  LATEST_FILE,
  listCheckpoints,
  parseInFlight,
  parseStepDir,
  STATE_FILE,
  stepDirName,
  type StepDir,
} from './layout.ts';

/** The latest complete checkpoint of `runDir`, or undefined when it has none. */
export async function findLatest(runDir: string): Promise<StepDir | undefined> {
  const named = await readLatest(runDir);
  if (named) return named;
  return (await listCheckpoints(runDir)).at(-1);
}

async function readLatest(runDir: string): Promise<StepDir | undefined> {
  let text: string;
  try {
    text = await readFile(join(runDir, LATEST_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const name = (parsed as { dir?: unknown } | null)?.dir;
  const step = typeof name === 'string' && basename(name) === name ? parseStepDir(name) : undefined;
  if (step === undefined || !existsSync(join(runDir, name as string, STATE_FILE))) return undefined;
  return { step, dir: join(runDir, name as string) };
}

/** Points `latest.json` at the step directory of `step` (atomically, directory synced). */
export async function writeLatest(runDir: string, step: number): Promise<void> {
  const file = new AtomicFile(join(runDir, LATEST_FILE));
  try {
    await file.write(`${JSON.stringify({ step, dir: stepDirName(step) })}\n`);
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
  await syncDir(runDir);
}

const alive = (pid: number): boolean => {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes what dead writers left in flight: temporary checkpoint directories, half-deleted ones and
 * temporary latest.json files. A complete checkpoint that was set aside to be replaced by one of the
 * same step, when the replacement never arrived, is put back. Live writers' names are left alone. */
export async function cleanStale(runDir: string): Promise<string[]> {
  if (!existsSync(runDir)) return [];
  const removed: string[] = [];
  for (const name of await readdir(runDir)) {
    const tmpLatest = /^\.flowlm-tmp-(\d+)-[0-9a-z]*-latest\.json$/.exec(name);
    const inFlight = parseInFlight(name);
    const pid = inFlight?.pid ?? (tmpLatest ? Number(tmpLatest[1]) : undefined);
    if (pid === undefined || alive(pid)) continue;
    const path = join(runDir, name);
    if (inFlight?.kind === 'replaced' && !existsSync(join(runDir, stepDirName(inFlight.step)))) {
      await rename(path, join(runDir, stepDirName(inFlight.step)));
      continue;
    }
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  if (removed.length > 0) await syncDir(runDir);
  return removed;
}

/** Deletes complete checkpoints older than `newest` beyond the `keep` most recent (newest included).
 * Higher-numbered directories are not touched: they are not older. Each is renamed out of the
 * step-directory namespace before it is deleted, so a crash never leaves half of one looking whole. */
export async function pruneCheckpoints(runDir: string, newest: number, keep: number): Promise<string[]> {
  const older = (await listCheckpoints(runDir)).filter((c) => c.step < newest);
  const doomed = older.slice(0, Math.max(0, older.length - (keep - 1)));
  for (const c of doomed) {
    const aside = join(runDir, deletingDirName(c.step));
    await rename(c.dir, aside);
    await syncDir(runDir);
    await rm(aside, { recursive: true, force: true });
  }
  return doomed.map((c) => c.dir);
}
