// The run this process records into, for code deep in a run (a metrics sink, a checkpoint writer, a
// rank thread or a rank process) that was not handed the store: the recording command sets
// FLOWLM_STORE and FLOWLM_RUN_ID, which threads and child processes inherit. Outside a recorded run
// currentRun() is undefined and nothing is written, so operators work in any RxJS app.
import { statSync } from 'node:fs';
import type { MetricRow } from '../schema/metrics.ts';
import { RunStore, type MetricPoint } from './store.ts';

export interface RunRecorder {
  readonly runId: string;
  readonly store: RunStore;
  /** metric rows of the training log format (split/name become the key split/name) */
  logMetricRows(rows: readonly MetricRow[]): void;
  logMetrics(points: readonly MetricPoint[]): void;
  logArtifact(path: string, kind: string): void;
  logParams(params: Record<string, unknown>): void;
  /** an artifact deleted since (a checkpoint pruned by keepLast) */
  forgetArtifact(path: string): void;
  setConfig(config: unknown, hash?: string): void;
  setRunDir(dir: string): void;
  mergeEnv(env: Record<string, unknown>): void;
}

let cached: { key: string; recorder: RunRecorder } | undefined;

export const metricKey = (split: string, name: string) => `${split}/${name}`;

export function recorderFor(store: RunStore, runId: string): RunRecorder {
  return {
    runId,
    store,
    logMetricRows: (rows) =>
      store.logMetrics(
        runId,
        rows.map((r) => ({ key: metricKey(r.split, r.name), step: r.step, value: r.value, time: r.time })),
      ),
    logMetrics: (points) => store.logMetrics(runId, points),
    logArtifact: (path, kind) => {
      let bytes: number | null = null;
      try {
        const st = statSync(path);
        bytes = st.isFile() ? st.size : null;
      } catch {}
      store.logArtifact(runId, { path, kind, bytes });
    },
    logParams: (params) => store.logParams(runId, params),
    forgetArtifact: (path) => store.forgetArtifact(runId, path),
    setConfig: (config, hash) => store.setConfig(runId, config, hash),
    setRunDir: (dir) => store.setRunDir(runId, dir),
    mergeEnv: (env) => store.mergeEnv(runId, env),
  };
}

/** The recorded run of this process (from FLOWLM_STORE and FLOWLM_RUN_ID), opened once per thread. */
export function currentRun(env: NodeJS.ProcessEnv = process.env): RunRecorder | undefined {
  const path = env.FLOWLM_STORE;
  const runId = env.FLOWLM_RUN_ID;
  if (!path || !runId) return undefined;
  const key = `${path}\0${runId}`;
  if (cached?.key !== key) {
    cached?.recorder.store.close();
    cached = { key, recorder: recorderFor(RunStore.open(path, { reap: false }), runId) };
  }
  return cached.recorder;
}

/** Runs `fn` with the current run, and reports (never throws) a store failure: the run directory's own
 * files stay the durable record, so a locked or broken store must not stop training. */
export function withCurrentRun(fn: (r: RunRecorder) => void, warn: (m: string) => void = () => {}): void {
  let r: RunRecorder | undefined;
  try {
    r = currentRun();
    if (r) fn(r);
  } catch (err) {
    warn(`run store: ${err instanceof Error ? err.message : String(err)} (the run directory keeps its own record)`);
  }
}
