// Optuna's RandomSampler: each param drawn independently and uniformly in its (log) space; ints are
// drawn over [low - step/2, high + step/2] and rounded, so every value has the same chance.
import type { Rng } from '../../runtime/rng.ts';
import { roundHalfEven, trialRng } from '../trial-rng.ts';
import type { Distribution, ParamValue, Sampler, SearchSpace } from '../types.ts';

/** The largest double below x (numpy.nextafter(x, -inf)), so that a uniform draw stays in [low, high). */
export function below(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  u[0]! += x > 0 ? -1n : 1n;
  return b[0]!;
}

/** An int distribution's step (1 unless given). */
export const intStep = (d: Extract<Distribution, { type: 'int' }>) => d.step ?? 1;

/** One draw of `d` from `rng`, as Optuna's RandomSampler does it. */
export function sampleUniformly(d: Distribution, rng: Rng): ParamValue {
  const u = rng.next();
  switch (d.type) {
    case 'uniform':
      return Math.min(d.low + u * (d.high - d.low), below(d.high));
    case 'log-uniform': {
      const lo = Math.log(d.low);
      const x = Math.exp(lo + u * (Math.log(d.high) - lo));
      return Math.max(d.low, Math.min(x, below(d.high)));
    }
    case 'int': {
      const step = intStep(d);
      if (d.log) {
        const lo = Math.log(d.low - 0.5);
        const x = roundHalfEven(Math.exp(lo + u * (Math.log(d.high + 0.5) - lo)));
        return Math.min(Math.max(x, d.low), d.high);
      }
      const x = d.low - step / 2 + u * (d.high - d.low + step);
      const k = roundHalfEven((x - d.low) / step);
      return Math.min(Math.max(k * step + d.low, d.low), d.high);
    }
    case 'categorical':
      return d.choices[Math.min(Math.floor(u * d.choices.length), d.choices.length - 1)]!;
  }
}

/** A sampler drawing every param independently and uniformly; trial n's params depend only on
 * (seed, n), not on the other trials. */
export function randomSampler(opts: { seed: number }): Sampler {
  const { seed } = opts;
  return {
    sample(space: SearchSpace, _trials, number) {
      const params: Record<string, ParamValue> = {};
      for (const [name, d] of Object.entries(space)) params[name] = sampleUniformly(d, trialRng(seed, number, name));
      return params;
    },
  };
}
