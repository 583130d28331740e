// The run store's row types and their SQL side: what a run, a metric point, an artifact and a study
// are, how a runs table row reads back, and the query of a runs filter (store.ts runs them).
import { randomBytes } from 'node:crypto';
export type RunStatus = 'running' | 'finished' | 'failed' | 'killed' | 'pruned';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'finished', 'failed', 'killed', 'pruned'];

export interface GitState {
  commit: string | null;
  dirty: boolean | null;
}

export interface NewRun {
  name: string;
  command: string;
  argv?: readonly string[];
  id?: string;
  studyId?: string;
  trial?: number;
  config?: unknown;
  configHash?: string;
  env?: Record<string, unknown>;
  runDir?: string;
  git?: GitState;
  params?: Record<string, unknown>;
  /** the process that writes the run (default: this one); a tuner creates trial runs for its children */
  pid?: number;
}

export interface RunRow {
  id: string;
  name: string;
  command: string;
  argv: string[];
  studyId: string | null;
  trial: number | null;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  heartbeatAt: number;
  pid: number;
  host: string;
  git: GitState;
  config: unknown;
  configHash: string | null;
  env: Record<string, unknown>;
  runDir: string | null;
  error: string | null;
}

export interface MetricPoint {
  key: string;
  step: number;
  value: number;
  /** ms since the epoch */
  time: number;
}

export interface Artifact {
  path: string;
  kind: string;
  bytes?: number | null;
  createdAt?: number;
}

export interface RunFilter {
  /** substring of the name */
  name?: string;
  status?: RunStatus;
  command?: string;
  /** params that must equal these values (compared as their JSON text, or as the plain string) */
  params?: Record<string, string>;
  studyId?: string;
  limit?: number;
}

export interface StudyRow {
  id: string;
  name: string;
  direction: 'minimize' | 'maximize';
  metric: string;
  spec: unknown;
  createdAt: number;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

/** how long a run on another host may go without a heartbeat before it counts as dead */
export const STALE_MS = 60_000;
export const HEARTBEAT_MS = 10_000;
/** how the error of a run found dead by reapStale starts */
export const REAPED = 'interrupted';

export const newId = () => randomBytes(8).toString('hex');
export const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
export const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type RawRun = Record<string, string | number | null>;
export function runRow(r: RawRun): RunRow {
  return {
    id: r.id as string,
    name: r.name as string,
    command: r.command as string,
    argv: parse(r.argv as string) as string[],
    studyId: r.study_id as string | null,
    trial: r.trial as number | null,
    status: r.status as RunStatus,
    startedAt: r.started_at as number,
    endedAt: r.ended_at as number | null,
    heartbeatAt: r.heartbeat_at as number,
    pid: r.pid as number,
    host: r.host as string,
    git: { commit: r.git_commit as string | null, dirty: r.git_dirty === null ? null : r.git_dirty === 1 },
    config: parse(r.config as string | null),
    configHash: r.config_hash as string | null,
    env: (parse(r.env as string) ?? {}) as Record<string, unknown>,
    runDir: r.run_dir as string | null,
    error: r.error as string | null,
  };
}
/** The SELECT of runs matching a filter, newest first. */
export function runsQuery(filter: RunFilter): { sql: string; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.name !== undefined) {
    where.push('instr(name, ?) > 0');
    args.push(filter.name);
  }
  if (filter.status) {
    where.push('status = ?');
    args.push(filter.status);
  }
  if (filter.command) {
    where.push('command = ?');
    args.push(filter.command);
  }
  if (filter.studyId) {
    where.push('study_id = ?');
    args.push(filter.studyId);
  }
  for (const [k, v] of Object.entries(filter.params ?? {})) {
    // the JSON text as given ("0.001", "\"micro\""), the plain string (micro) or the value the text
    // reads as (1e-3 is the 0.001 stored)
    let asJson = JSON.stringify(v);
    try {
      asJson = JSON.stringify(JSON.parse(v));
    } catch {}
    where.push('EXISTS (SELECT 1 FROM params p WHERE p.run_id = runs.id AND p.key = ? AND p.value IN (?, ?, ?))');
    args.push(k, v, JSON.stringify(v), asJson);
  }
  const sql =
    `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id` +
    (filter.limit ? ` LIMIT ${Math.floor(filter.limit)}` : '');
  return { sql, args };
}
