// A study's trials as the samplers and pruners see them (types.ts), read from the run store: one
// record per trial number, from that number's latest run (a trial interrupted by a crash and run
// again counts once). The objective is the last value of the study's metric; its values by step are
// the intermediate values the pruners compare.
import { REAPED, type RunRow, type RunStore } from '../runs/store.ts';
import type { ParamValue, SearchSpace, TrialRecord, TrialState } from './types.ts';

export interface StoredTrial {
  run: RunRow;
  record: TrialRecord;
  /** the run ended without an outcome of its own (its process or the tuner died): run it again */
  interrupted: boolean;
}

export function trialState(run: RunRow): TrialState {
  switch (run.status) {
    case 'running':
      return 'running';
    case 'finished':
      return 'complete';
    case 'pruned':
      return 'pruned';
    default:
      return 'failed';
  }
}

/** Killed by a signal (the tuner's watchdog) or found dead by the store: not the trial's own failure. */
export const wasInterrupted = (run: RunRow): boolean =>
  run.status === 'killed' || (run.status === 'failed' && (run.error ?? '').startsWith(REAPED));

export function trialParams(store: RunStore, run: RunRow, space: SearchSpace): Record<string, ParamValue> {
  const all = store.params(run.id);
  const out: Record<string, ParamValue> = {};
  for (const k of Object.keys(space)) {
    const v = all[k];
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** One run of a study as the trial it records. */
export function storedTrial(store: RunStore, run: RunRow, space: SearchSpace, metric: string): StoredTrial {
  const points = store.metrics(run.id, metric);
  const intermediate = new Map(points.map((p) => [p.step, p.value]));
  let state = trialState(run);
  const last = points.at(-1)?.value;
  // a finished run that never reported the metric has no objective: it counts as failed
  if (state === 'complete' && (last === undefined || Number.isNaN(last))) state = 'failed';
  return {
    run,
    interrupted: wasInterrupted(run),
    record: {
      number: run.trial!,
      params: trialParams(store, run, space),
      state,
      value: state === 'complete' ? last : undefined,
      intermediate,
    },
  };
}

export function storedTrials(store: RunStore, studyId: string, space: SearchSpace, metric: string): StoredTrial[] {
  const latest = new Map<number, RunRow>();
  for (const run of store.trials(studyId)) if (run.trial !== null) latest.set(run.trial, run); // in start order
  return [...latest.values()].sort((a, b) => a.trial! - b.trial!).map((run) => storedTrial(store, run, space, metric));
}
