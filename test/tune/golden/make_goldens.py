"""Golden fixtures for src/tune, from Debian's python3-optuna 3.1.0 (run with /usr/bin/python3):

  /usr/bin/python3 test/tune/golden/make_goldens.py && npx biome format --write test/tune/golden

writes, next to this script:
  median-pruner.json   MedianPruner's decision at every report of fixed curves, several settings
  asha-pruner.json     the same for SuccessiveHalvingPruner
  tpe-parts.json       Optuna's truncated normal, Parzen estimator densities and below/above split on
                       fixed inputs (deterministic, so compared to ~1e-12)
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


def truncnorm_goldens():
    from optuna.samplers._tpe import _truncnorm as tn

    xs = [-40.0, -21.0, -12.0, -5.0, -1.5, -0.3, 0.0, 0.4, 2.0, 6.5, 9.0, 30.0]
    pairs = [(-40.0, -30.0), (-8.0, -2.0), (-3.0, 0.5), (-1.0, 1.0), (-0.2, 0.1), (0.5, 3.0), (2.0, 9.0), (25.0, 38.0)]
    qs = [1e-9, 0.01, 0.3, 0.5, 0.77, 0.999]
    return {
        "logNdtr": [[x, float(tn._log_ndtr(np.array([x]))[0])] for x in xs],
        "logGaussMass": [[a, b, float(tn._log_gauss_mass(np.array([a]), np.array([b]))[0])] for a, b in pairs],
        "ppf": [[q, a, b, float(tn.ppf(np.array([q]), a, b)[0])] for a, b in pairs for q in qs],
    }


def parzen_goldens():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
    from optuna.samplers._tpe.sampler import default_weights

    rng = np.random.RandomState(7)
    spaces = [
        ({"type": "uniform", "low": -5.0, "high": 10.0}, FloatDistribution(-5.0, 10.0)),
        ({"type": "log-uniform", "low": 1e-4, "high": 1e-1}, FloatDistribution(1e-4, 1e-1, log=True)),
        ({"type": "int", "low": 2, "high": 200, "step": 2}, IntDistribution(2, 200, step=2)),
        ({"type": "int", "low": 1, "high": 1024, "log": True}, IntDistribution(1, 1024, log=True)),
        ({"type": "categorical", "choices": ["adam", "sgd", "lion", "adamw"]},
         CategoricalDistribution(["adam", "sgd", "lion", "adamw"])),
    ]
    settings = [
        {"priorWeight": 1.0, "considerMagicClip": True, "considerEndpoints": False},
        {"priorWeight": 2.5, "considerMagicClip": False, "considerEndpoints": True},
    ]
    cases = []
    for ours, dist in spaces:
        for n in (0, 1, 3, 30):
            for st in settings:
                if ours["type"] == "categorical":
                    obs = rng.randint(0, 4, size=n).astype(float)
                    points = np.arange(4)
                else:
                    # observations and points drawn uniformly in the (log) range, ints on their grid
                    def draw(k):
                        u = rng.uniform(0, 1, size=k)
                        if dist.log:
                            lo, hi = math.log(dist.low), math.log(dist.high)
                            v = np.exp(lo + u * (hi - lo))
                        else:
                            v = dist.low + u * (dist.high - dist.low)
                        if isinstance(dist, IntDistribution):
                            v = np.clip(np.round((v - dist.low) / dist.step) * dist.step + dist.low, dist.low, dist.high)
                        return v
                    obs = draw(n)
                    while len(np.unique(obs)) < n:  # distinct: numpy's argsort orders ties by CPU (SIMD)
                        obs = np.unique(np.concatenate([np.unique(obs), draw(n - len(np.unique(obs)))]))
                    rng.shuffle(obs)
                    points = draw(7)
                params = _ParzenEstimatorParameters(
                    True, st["priorWeight"], st["considerMagicClip"], st["considerEndpoints"], default_weights, False
                )
                pe = _ParzenEstimator({"p": np.asarray(obs, dtype=float)}, {"p": dist}, params)
                lp = pe.log_pdf({"p": np.asarray(points)})
                cases.append({"distribution": ours, "options": st, "observations": [float(x) for x in obs],
                              "points": [float(x) for x in points], "logPdf": [float(x) for x in lp]})
    return cases


def split_goldens():
    """Which trials TPE puts in its "below" group, with complete, pruned (at various steps, NaN,
    without reports) and failed trials."""
    from optuna.samplers._tpe.sampler import _get_observation_pairs, _split_observation_pairs
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    rng = np.random.RandomState(3)
    out = []
    for direction in ("minimize", "maximize"):
        study = optuna.create_study(direction=direction)
        trials = []
        for i in range(30):
            kind = ["complete", "complete", "pruned", "complete", "failed", "pruned"][i % 6]
            x = float(rng.uniform(0, 1))
            inter = {}
            if kind == "pruned" and i % 5 != 0:
                for s in range(int(rng.randint(1, 6))):
                    inter[s] = float("nan") if i % 7 == 1 and s > 0 else round(float(rng.uniform(0, 2)), 4)
            value = round(float(rng.uniform(0, 2)), 4) if kind == "complete" else None
            if kind == "complete" and i % 9 == 0:
                value = 1.0  # ties, ordered by trial number
            state = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}[kind]
            study.add_trial(create_trial(state=state, value=value, params={"x": x},
                                         distributions={"x": FloatDistribution(0, 1)}, intermediate_values=inter))
            trials.append({"number": i, "state": kind, "value": value, "x": x,
                           "intermediate": [[s, None if math.isnan(v) else v] for s, v in inter.items()]})
        values, scores, _ = _get_observation_pairs(study, ["x"])
        for n_below in (1, 4, 9):
            below, _ = _split_observation_pairs(scores, n_below, None)
            xs = np.asarray(values["x"])[below]
            below_numbers = [t["number"] for t in trials if t["state"] != "failed" and t["x"] in set(xs.tolist())]
            out.append({"direction": direction, "nBelow": n_below, "trials": trials, "below": below_numbers})
    return out


def write(name, data):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"optuna": optuna.__version__, **data} if "optuna" not in data else data, f)
        f.write("\n")


if __name__ == "__main__":
    if os.environ.get("ONLY_PARTS"):
        write("tpe-parts.json", {"truncnorm": truncnorm_goldens(), "parzen": parzen_goldens(), "split": split_goldens()})
        raise SystemExit
    write("median-pruner.json", {"cases": median_goldens()})
    write("asha-pruner.json", {"cases": asha_goldens()})
    write("tpe-parts.json", {"truncnorm": truncnorm_goldens(), "parzen": parzen_goldens(), "split": split_goldens()})
    write("tpe-benchmark.json", tpe_goldens())
