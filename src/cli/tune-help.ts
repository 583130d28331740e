// `flowlm tune --help`.
export const TUNE_USAGE =
  'flowlm tune <pipeline.ts> --space FILE --trials N [--parallel K] [--devices cpu:N|gpu:i,j]\n' +
  '            [--sampler tpe|random|grid] [--pruner median|asha|none] [--metric KEY] [--direction minimize|maximize]\n' +
  '            [--seed S] [--study NAME] [--out DIR] [--time-limit S] [--enqueue k=v,...] [--set k=v ...] [--json]';

export function tuneHelp(): string {
  return `Usage: ${TUNE_USAGE}

Hyperparameter search over any --set key of a training pipeline (Optuna's samplers and pruners). Each
trial is a \`flowlm train\` process with the trial's values set and a run directory of its own, recorded
in the run store as a run of the study; the study, its trials and their metrics stay in the store, so
\`flowlm tune --study NAME\` resumes a study after a crash (interrupted trials run again with their
params) or extends it (a larger --trials). Prints the trials table and the best trial.

Options:
      --space FILE        JSON: {"optimizer.lr.max": {"type": "log-uniform", "low": 1e-4, "high": 1e-2},
                          "optimizer.lr.warmupSteps": {"type": "int", "low": 0, "high": 100, "step": 10},
                          "model.dropout": {"type": "uniform", "low": 0, "high": 0.2},
                          "trainer.batchSize": {"type": "categorical", "choices": [4, 8]}}
      --trials N          the study's number of trials (counting those of earlier invocations)
      --parallel K        trials at once (default 1); --devices is split among them
      --devices SPEC      cpu:N (each trial gets cpu:N/K) or gpu:i,j,... (default cpu:K)
      --sampler NAME      tpe (default: random for the first trials, then the tree-structured Parzen
                          estimator), random, or grid (every combination; uniform ranges in grid points)
      --sampler-option k=v  sampler settings, e.g. nStartupTrials=5, nEiCandidates=24 (tpe), points=5 (grid)
      --pruner NAME       median (stop a trial whose best value so far is worse than the median of earlier
                          trials at the same step), asha (successive halving), none (default: median)
      --pruner-option k=v   e.g. nStartupTrials=2, nWarmupSteps=20 (median); minResource=10,
                          reductionFactor=3 (asha)
      --metric KEY        the objective and intermediate values, a metric key of the trials' runs
                          (default val/loss; the last value is the objective)
      --direction D       minimize (default) or maximize
      --seed S            the sampler's seed (default 0): the same seed gives the same trials
      --study NAME        the study's name in the run store (default: the pipeline's name and the time)
      --out DIR           trial run directories and logs (default runs/tune/<study>)
      --time-limit S      each trial trains for S seconds (flowlm train --time-limit): equal-time trials
      --enqueue k=v,...   a trial with these params, run first (e.g. the defaults, as a baseline); repeatable
  -s, --set k=v           a setting of every trial (flowlm train --set)
      --progress MODE     auto (a live table on a terminal, lines otherwise), table, plain
      --store PATH        the run store (default FLOWLM_STORE or .flowlm/runs.sqlite)
      --json              one JSON summary object (best trial, trials) as the last stdout line

Trial n is sampled and pruned from the trials numbered n-K and below, all ended (the runner waits for
them), so a study is reproducible from its seed at any --parallel. Exit codes: 0 done (some trial
complete), 1 no trial completed, 2 bad usage.`;
}
