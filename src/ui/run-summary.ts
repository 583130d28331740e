// What the dashboard's runs table and the report's summary show of a run, and its metrics as chart
// series: read from the run store only (never a run directory), so they work for any recorded run.
import type { RunRow, RunStore } from '../runs/store.ts';
import { runLabel, type Series } from './chart-spec.ts';

export interface RunSummary {
  id: string;
  name: string;
  label: string;
  command: string;
  status: RunRow['status'];
  startedAt: number;
  endedAt: number | null;
  /** to the end, or to the last heartbeat of a running run */
  durationMs: number;
  params: Record<string, unknown>;
  /** metric keys the run has */
  keys: string[];
  /** the last value of every key ending in "loss" (train/loss, val/loss, ...) */
  final: Record<string, number | null>;
  /** the highest step of any metric (-1: none yet) */
  lastStep: number;
  error: string | null;
}

export function runSummary(store: RunStore, run: RunRow): RunSummary {
  const keys = store.metricKeys(run.id);
  const final: Record<string, number | null> = {};
  const last = store.db
    .prepare(
      `SELECT m.key, m.value FROM metrics m
       JOIN (SELECT key, MAX(step) AS step FROM metrics WHERE run_id = ? GROUP BY key) l
         ON m.key = l.key AND m.step = l.step
       WHERE m.run_id = ?`,
    )
    .all(run.id, run.id) as { key: string; value: number | null }[];
  for (const r of last) if (/loss$/.test(r.key)) final[r.key] = r.value;
  const { step } = store.db.prepare('SELECT MAX(step) AS step FROM metrics WHERE run_id = ?').get(run.id) as {
    step: number | null;
  };
  return {
    id: run.id,
    name: run.name,
    label: runLabel(run),
    command: run.command,
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: (run.endedAt ?? (run.status === 'running' ? Date.now() : run.heartbeatAt)) - run.startedAt,
    params: store.params(run.id),
    keys,
    final,
    lastStep: step ?? -1,
    error: run.error,
  };
}

/** A run's points after `afterStep`, by key, as [step, value] pairs (NaN as null: JSON has no NaN). */
export function metricPairs(store: RunStore, runId: string, afterStep = -1): Record<string, [number, number | null][]> {
  const out: Record<string, [number, number | null][]> = {};
  for (const p of store.metrics(runId, undefined, afterStep))
    (out[p.key] ??= []).push([p.step, Number.isNaN(p.value) ? null : p.value]);
  return out;
}

/** The series of one key over the given runs (runs without the key are left out). */
export function seriesOf(
  key: string,
  runs: readonly RunSummary[],
  pairs: ReadonlyMap<string, Record<string, [number, number | null][]>>,
): Series[] {
  return runs.flatMap((r) => {
    const points = pairs.get(r.id)?.[key];
    return points ? [{ runId: r.id, label: r.label, points }] : [];
  });
}
