// Names inside a run directory. Complete checkpoints are `step-NNNNNN/` (renamed into place only once
// every file in them is written and synced); everything a save or prune has in flight starts with a
// dot and carries the writer's pid, so listings skip it and a later save can tell a dead writer's
// leftovers from a live one's.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export const STATE_FILE = 'state.json';
export const PARAMS_FILE = 'params.arrow';
export const OPTIMIZER_FILE = 'optimizer.arrow';
export const LATEST_FILE = 'latest.json';

/** `step-000120`: zero-padded so a plain sort of names is the order of steps (up to a million). */
export const stepDirName = (step: number): string => `step-${String(step).padStart(6, '0')}`;

export function parseStepDir(name: string): number | undefined {
  const m = /^step-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

const tag = () => `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
/** a checkpoint being written */
export const tempDirName = (step: number): string => `.tmp-${stepDirName(step)}-${tag()}`;
/** a complete checkpoint set aside while a new one of the same step replaces it */
export const replacedDirName = (step: number): string => `.replaced-${stepDirName(step)}-${tag()}`;
/** a checkpoint being deleted (renamed first, so a half-deleted one never looks complete) */
export const deletingDirName = (step: number): string => `.deleting-${stepDirName(step)}-${tag()}`;

/** The in-flight names above: kind, step and the pid of the process that made it. */
export function parseInFlight(
  name: string,
): { kind: 'tmp' | 'replaced' | 'deleting'; step: number; pid: number } | undefined {
  const m = /^\.(tmp|replaced|deleting)-step-(\d+)-(\d+)-[0-9a-z]+$/.exec(name);
  return m ? { kind: m[1] as 'tmp' | 'replaced' | 'deleting', step: Number(m[2]), pid: Number(m[3]) } : undefined;
}

export interface StepDir {
  step: number;
  dir: string;
}

/** Complete checkpoints in `runDir` (step directories holding state.json), by ascending step. */
export async function listCheckpoints(runDir: string): Promise<StepDir[]> {
  if (!existsSync(runDir)) return [];
  const out: StepDir[] = [];
  for (const e of await readdir(runDir, { withFileTypes: true })) {
    const step = e.isDirectory() ? parseStepDir(e.name) : undefined;
    if (step !== undefined && existsSync(join(runDir, e.name, STATE_FILE)))
      out.push({ step, dir: join(runDir, e.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}
