// The shared vocabulary of the hyperparameter search: a search space, the trials run so far, and
// the two strategies that act on them (a sampler choosing a trial's params, a pruner stopping a
// trial early). Semantics follow Optuna 3.1 so that results can be checked against it.

export type ParamValue = number | string | boolean;
export type Distribution =
  | { type: 'uniform'; low: number; high: number }
  | { type: 'log-uniform'; low: number; high: number }
  | { type: 'int'; low: number; high: number; step?: number; log?: boolean }
  | { type: 'categorical'; choices: ParamValue[] };
export type SearchSpace = Record<string, Distribution>; // key = a --set key, e.g. "optimizer.lr"
export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';
export interface TrialRecord {
  number: number;
  params: Record<string, ParamValue>;
  state: TrialState;
  value?: number; // the objective, for complete trials
  intermediate: ReadonlyMap<number, number>; // step -> reported value
}
export type Direction = 'minimize' | 'maximize';
export interface Sampler {
  /** params of trial `number`, from the trials given (deterministic given the sampler's seed, number and trials) */
  sample(space: SearchSpace, trials: readonly TrialRecord[], number: number): Record<string, ParamValue>;
}
export interface Pruner {
  /** Optuna's pruner.prune(study, trial) after `trial` reported at `step` (trial.intermediate holds it) */
  shouldPrune(trial: TrialRecord, step: number, trials: readonly TrialRecord[]): boolean;
}
