// Runs a study: trials 0..N-1 as child processes, at most K at once, each sampled and pruned from the
// trials before it. Trial n is sampled from, and pruned against, exactly the trials numbered
// n-K and below (which the runner waits for, if one is still running), so a study is reproducible
// from its seed at any --parallel: with K=1 this is Optuna's sequential optimize(); with K>1 a trial
// does not see the K-1 trials started just before it, whatever order they end in. Pruning polls the
// run store for the trial's intermediate values; a pruned trial's run is marked pruned and its process
// stopped (it checkpoints and exits). Resuming a study re-runs its interrupted trials with their params
// and goes on; finished, pruned and failed trials are kept.
import { join } from 'node:path';
import type { RunStore, StudyRow } from '../runs/store.ts';
import { storedTrial, storedTrials, type StoredTrial } from './trial-records.ts';
import { launchTrial, type TrialProcess } from './trial-process.ts';
import type { Direction, ParamValue, Pruner, Sampler, SearchSpace, TrialRecord } from './types.ts';

export interface StudyPlan {
  command: string;
  file: string;
  sets: readonly string[];
  space: SearchSpace;
  metric: string;
  direction: Direction;
  trials: number;
  parallel: number;
  /** --devices of each parallel slot */
  devices: readonly string[];
  runDirKey: string;
  outDir: string;
  timeLimitS?: number;
  /** params of the first trials (Optuna's enqueue_trial), e.g. the spec's defaults as a baseline */
  enqueued: readonly Record<string, ParamValue>[];
}

export type TrialEvent =
  | { type: 'started'; trial: TrialRecord; runId: string; devices: string }
  | { type: 'reported'; trial: TrialRecord; step: number; value: number }
  | { type: 'pruned'; trial: TrialRecord; step: number }
  | { type: 'ended'; trial: TrialRecord; log: string };

interface Live {
  record: TrialRecord & { intermediate: Map<number, number> };
  runId: string;
  proc: TrialProcess;
  slot: number;
  lastStep: number;
  pruned: boolean;
  exited: boolean;
}

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function betterOf(direction: Direction, a: number, b: number): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

/** The best complete trial. */
export function bestTrial(trials: readonly TrialRecord[], direction: Direction): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials)
    if (t.state === 'complete' && t.value !== undefined && !Number.isNaN(t.value))
      if (!best || betterOf(direction, t.value, best.value!)) best = t;
  return best;
}

export async function runStudy(
  store: RunStore,
  study: StudyRow,
  plan: StudyPlan,
  strategy: { sampler: Sampler; pruner?: Pruner },
  o: { onEvent?: (e: TrialEvent, all: readonly TrialRecord[]) => void; signal?: AbortSignal } = {},
): Promise<TrialRecord[]> {
  // a trial still running from a tuner that died stops by itself (its watchdog): wait for it
  let found = storedTrials(store, study.id, plan.space, plan.metric);
  while (found.some((t) => t.record.state === 'running') && !o.signal?.aborted) {
    await sleep(POLL_MS);
    store.reapStale();
    found = storedTrials(store, study.id, plan.space, plan.metric);
  }
  const stored = new Map<number, StoredTrial>(found.map((t) => [t.record.number, t]));
  const done = new Map<number, TrialRecord>();
  for (const [n, t] of stored) if (!t.interrupted && t.record.state !== 'running') done.set(n, t.record);
  const live = new Map<number, Live>();
  const all = (): TrialRecord[] =>
    [...done.values(), ...[...live.values()].map((l) => l.record)].sort((a, b) => a.number - b.number);
  const emit = (e: TrialEvent) => o.onEvent?.(e, all());
  // what trial n may see: the trials K or more before it, all ended
  const horizon = (n: number) => n - plan.parallel;
  const visible = (n: number) =>
    [...done.values()].filter((t) => t.number <= horizon(n)).sort((a, b) => a.number - b.number);
  const ready = (n: number) => {
    for (let m = 0; m <= horizon(n); m++) if (!done.has(m)) return false;
    return true;
  };
  const pending = Array.from({ length: plan.trials }, (_, n) => n).filter((n) => !done.has(n));
  const freeSlots = new Set(Array.from({ length: plan.parallel }, (_, i) => i));

  const start = (n: number) => {
    const slot = freeSlots.values().next().value as number;
    freeSlots.delete(slot);
    const prior = stored.get(n);
    const params =
      plan.enqueued[n] ??
      (prior && Object.keys(prior.record.params).length === Object.keys(plan.space).length
        ? prior.record.params
        : strategy.sampler.sample(plan.space, visible(n), n));
    const runDir = join(plan.outDir, `trial-${String(n).padStart(3, '0')}`);
    const run = store.createRun({
      name: `${study.name} trial ${n}`,
      command: plan.command,
      argv: [plan.file],
      studyId: study.id,
      trial: n,
      runDir,
      params: { file: plan.file, ...params },
    });
    const proc = launchTrial({
      command: plan.command,
      file: plan.file,
      sets: plan.sets,
      params,
      runDirKey: plan.runDirKey,
      runDir,
      devices: plan.devices[slot]!,
      timeLimitS: plan.timeLimitS,
      store: store.path,
      runId: run.id,
    });
    const record = { number: n, params, state: 'running' as const, intermediate: new Map<number, number>() };
    const l: Live = { record, runId: run.id, proc, slot, lastStep: -1, pruned: false, exited: false };
    void proc.exit.then(() => {
      l.exited = true;
    });
    live.set(n, l);
    emit({ type: 'started', trial: record, runId: run.id, devices: plan.devices[slot]! });
  };

  const poll = () => {
    for (const l of live.values()) {
      for (const p of store.metrics(l.runId, plan.metric, l.lastStep)) {
        l.lastStep = p.step;
        l.record.intermediate.set(p.step, p.value);
        emit({ type: 'reported', trial: l.record, step: p.step, value: p.value });
        if (!l.pruned && strategy.pruner?.shouldPrune(l.record, p.step, visible(l.record.number))) {
          l.pruned = true;
          store.finishRun(l.runId, 'pruned');
          l.proc.stop();
          emit({ type: 'pruned', trial: l.record, step: p.step });
        }
      }
    }
  };

  const finish = (n: number, l: Live) => {
    poll(); // the values written before the process ended
    live.delete(n);
    freeSlots.add(l.slot);
    const run = store.run(l.runId);
    if (run?.status === 'running') store.finishRun(l.runId, 'failed', `trial process exited without ending its run`);
    const rec = storedTrial(store, store.run(l.runId)!, plan.space, plan.metric).record;
    done.set(n, rec);
    emit({ type: 'ended', trial: rec, log: l.proc.log });
  };

  while (pending.length > 0 || live.size > 0) {
    if (o.signal?.aborted) {
      for (const l of live.values()) l.proc.stop();
      await Promise.all([...live.values()].map((l) => l.proc.exit));
      break;
    }
    while (pending.length > 0 && freeSlots.size > 0 && ready(pending[0]!)) {
      const n = pending.shift()!;
      start(n);
    }
    poll();
    for (const [n, l] of [...live]) if (l.exited) finish(n, l);
    await sleep(POLL_MS);
  }
  return all();
}
