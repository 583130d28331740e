"""Golden fixtures for src/tune, from Debian's python3-optuna 3.1.0 (run with /usr/bin/python3):

  /usr/bin/python3 test/tune/golden/make_goldens.py && npx biome format --write test/tune/golden

writes, next to this script:
  median-pruner.json   MedianPruner's decision at every report of fixed curves, several settings
  asha-pruner.json     the same for SuccessiveHalvingPruner
  tpe-benchmark.json   best value after a fixed budget on Branin and Hartmann6, TPESampler and
                       RandomSampler, 20 seeds each

Trials run one after another as in study.optimize: each reports its curve step by step, asks
should_prune after every report and stops when told; a trial that is not pruned finishes with its
last reported value (a NaN there makes Optuna fail it).
"""
import json
import math
import os

import numpy as np
import optuna

optuna.logging.set_verbosity(optuna.logging.ERROR)
HERE = os.path.dirname(os.path.abspath(__file__))


def curves(seed, n_trials, n_steps, every=None):
    """Deterministic learning curves: noisy decays with trial-dependent levels, a few NaN reports,
    a NaN-only trial, one ending on NaN, trials reporting only some steps."""
    rng = np.random.RandomState(seed)
    out = []
    for t in range(n_trials):
        level = rng.uniform(0.2, 2.0) * (1 - 0.7 * t / n_trials)  # later trials tend to do better
        rate = rng.uniform(0.05, 0.4)
        steps = list(range(n_steps))
        if every is not None and t % 4 == 3:
            steps = steps[t % 3 :: every]  # sparse reporting: later steps, gaps
        reports = []
        for s in steps:
            v = level * math.exp(-rate * s) + 0.05 * rng.standard_normal() + 0.3
            if t % 5 == 2 and s % 7 == 3:
                v = math.nan  # a diverged evaluation now and then
            if t == 6:
                v = math.nan  # a trial that never reports a number
            if t == 1 and s == steps[-1]:
                v = math.nan  # ends on NaN: failed unless pruned first
            reports.append([s, round(v, 6) if not math.isnan(v) else None])
        out.append(reports)
    return out


def run(pruner, direction, trial_curves):
    study = optuna.create_study(direction=direction, pruner=pruner, sampler=optuna.samplers.RandomSampler(0))
    decisions, states = [], []
    for reports in trial_curves:
        trial = study.ask()
        ds = []
        pruned = False
        for step, v in reports:
            trial.report(math.nan if v is None else v, step)
            p = trial.should_prune()
            ds.append(bool(p))
            if p:
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            last = reports[-1][1] if reports else None
            study.tell(trial, math.nan if last is None else last)  # NaN: Optuna fails the trial
        decisions.append(ds)
        states.append({"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}[study.trials[-1].state.name])
    return decisions, states


def pruner_cases(make, settings):
    cases = []
    for i, (opts, direction, curve_args) in enumerate(settings):
        trial_curves = curves(*curve_args)
        if direction == "maximize":
            # mirror the curves so that maximising them is the same problem
            trial_curves = [[[s, None if v is None else round(3 - v, 6)] for s, v in r] for r in trial_curves]
        decisions, states = run(make(opts), direction, trial_curves)
        cases.append(
            {"name": f"{i}: {direction} {json.dumps(opts)} curves{curve_args}", "options": opts, "direction": direction,
             "curves": trial_curves, "decisions": decisions, "states": states}
        )
    return cases


def median_goldens():
    settings = [
        ({}, "minimize", (0, 12, 20)),
        ({}, "maximize", (0, 12, 20)),
        ({"n_startup_trials": 2}, "minimize", (1, 12, 20)),
        ({"n_startup_trials": 0, "n_warmup_steps": 5}, "minimize", (2, 12, 20)),
        ({"n_startup_trials": 3, "n_warmup_steps": 3, "interval_steps": 4}, "minimize", (3, 12, 20, 3)),
        ({"n_startup_trials": 3, "n_warmup_steps": 2, "interval_steps": 3}, "maximize", (4, 12, 20, 2)),
        ({"n_startup_trials": 2, "n_min_trials": 4}, "minimize", (5, 12, 20)),
        ({"n_startup_trials": 1, "interval_steps": 5, "n_min_trials": 2}, "maximize", (6, 12, 20, 3)),
    ]

    def make(o):
        return optuna.pruners.MedianPruner(
            n_startup_trials=o.get("n_startup_trials", 5), n_warmup_steps=o.get("n_warmup_steps", 0),
            interval_steps=o.get("interval_steps", 1), n_min_trials=o.get("n_min_trials", 1),
        )

    return pruner_cases(make, settings)


def asha_goldens():
    settings = [
        ({}, "minimize", (10, 16, 30)),  # min_resource 'auto'
        ({"min_resource": 1}, "minimize", (11, 16, 30)),
        ({"min_resource": 1}, "maximize", (11, 16, 30)),
        ({"min_resource": 1, "reduction_factor": 2}, "minimize", (12, 16, 30)),
        ({"min_resource": 2, "reduction_factor": 3}, "maximize", (13, 16, 30, 2)),
        ({"min_resource": 1, "reduction_factor": 2, "min_early_stopping_rate": 1}, "minimize", (14, 16, 30)),
        ({"min_resource": 1, "reduction_factor": 2, "bootstrap_count": 2}, "minimize", (15, 16, 30)),
        ({"min_resource": 3, "reduction_factor": 2}, "minimize", (16, 16, 30, 4)),
        ({"reduction_factor": 3}, "maximize", (17, 16, 30, 3)),  # 'auto'
    ]

    def make(o):
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=o.get("min_resource", "auto"), reduction_factor=o.get("reduction_factor", 4),
            min_early_stopping_rate=o.get("min_early_stopping_rate", 0), bootstrap_count=o.get("bootstrap_count", 0),
        )

    return pruner_cases(make, settings)


def branin(x, y):
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


HARTMANN_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
                       [17, 8, 0.05, 10, 0.1, 14]])
HARTMANN_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x)
    return float(-np.sum(HARTMANN_ALPHA * np.exp(-np.sum(HARTMANN_A * (x - HARTMANN_P) ** 2, axis=1))))


def tpe_goldens(n_seeds=20):
    problems = {
        "branin": (40, lambda t: branin(t.suggest_float("x", -5, 10), t.suggest_float("y", 0, 15))),
        "hartmann6": (60, lambda t: hartmann6([t.suggest_float(f"x{i}", 0, 1) for i in range(6)])),
    }
    out = {}
    for name, (budget, objective) in problems.items():
        out[name] = {"budget": budget}
        for label, make in (("tpe", optuna.samplers.TPESampler), ("random", optuna.samplers.RandomSampler)):
            best = []
            for seed in range(n_seeds):
                study = optuna.create_study(sampler=make(seed=seed))
                study.optimize(objective, n_trials=budget)
                best.append(study.best_value)
            out[name][label] = best
    return {"optuna": optuna.__version__, "seeds": n_seeds, "problems": out}


def write(name, data):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"optuna": optuna.__version__, **data} if "optuna" not in data else data, f)
        f.write("\n")


if __name__ == "__main__":
    write("median-pruner.json", {"cases": median_goldens()})
    write("asha-pruner.json", {"cases": asha_goldens()})
    write("tpe-benchmark.json", tpe_goldens())
