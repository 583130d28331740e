// Optuna's GridSampler over a search space: the grid is the product of each param's values, keys
// in sorted order (the last key varies fastest); a trial takes the first grid point, in grid order
// (or a seeded shuffle of it), that no finished or running trial holds; when every point is taken
// it revisits, as Optuna does. Optuna keeps the grid id in a trial attribute; we recover it from
// the trial's params, which are exactly grid values.
//
// Values per param: categorical gives its choices; int every value from low to high by step (with
// log and `points`, `points` log-spaced distinct ints); uniform and log-uniform have no natural grid,
// so they need `points`: N evenly spaced (log-spaced for log-uniform) values from low to high.
import { Rng } from '../../runtime/rng.ts';
import type { Distribution, ParamValue, Sampler, SearchSpace, TrialRecord } from '../types.ts';
import { intStep } from './random.ts';

export interface GridOptions {
  /** shuffle the grid order with this seed; without it trials visit points in product order */
  seed?: number;
  /** values per continuous param: one count for all, or per key */
  points?: number | Record<string, number>;
}

function pointsFor(name: string, opts: GridOptions): number | undefined {
  const p = typeof opts.points === 'number' ? opts.points : opts.points?.[name];
  if (p !== undefined && !(Number.isInteger(p) && p >= 1))
    throw new RangeError(`gridSampler: points for '${name}' must be an integer >= 1, got ${p}`);
  return p;
}

function spaced(low: number, high: number, n: number): number[] {
  if (n === 1) return [low];
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? high : low + ((high - low) * i) / (n - 1)));
}

/** The grid values of one param, in order. */
export function gridValues(name: string, d: Distribution, opts: GridOptions = {}): ParamValue[] {
  const n = pointsFor(name, opts);
  switch (d.type) {
    case 'categorical':
      return [...d.choices];
    case 'int': {
      if (d.log && n !== undefined) {
        const xs = spaced(Math.log(d.low), Math.log(d.high), n).map((x) => Math.round(Math.exp(x)));
        return [...new Set(xs.map((x) => Math.min(Math.max(x, d.low), d.high)))];
      }
      const step = intStep(d);
      return Array.from({ length: (d.high - d.low) / step + 1 }, (_, i) => d.low + i * step);
    }
    case 'uniform':
    case 'log-uniform': {
      if (n === undefined)
        throw new Error(
          `gridSampler: '${name}' is ${d.type} and has no natural grid; pass points (e.g. { points: 5 } or ` +
            `{ points: { '${name}': 5 } }) for that many evenly ${d.type === 'uniform' ? '' : 'log-'}spaced values`,
        );
      if (d.type === 'uniform') return spaced(d.low, d.high, n);
      return spaced(Math.log(d.low), Math.log(d.high), n).map((x, i) =>
        i === 0 ? d.low : i === n - 1 ? d.high : Math.exp(x),
      );
    }
  }
}

/** How many points the grid of `space` has. */
export function gridSize(space: SearchSpace, opts: GridOptions = {}): number {
  return Object.entries(space).reduce((n, [name, d]) => n * gridValues(name, d, opts).length, 1);
}

export function gridSampler(space: SearchSpace, opts: GridOptions = {}): Sampler & { size: number } {
  const names = Object.keys(space).sort();
  const values = names.map((name) => gridValues(name, space[name]!, opts));
  const size = values.reduce((n, v) => n * v.length, 1);
  // visiting order: product order, or a seeded permutation of it
  const order = Array.from({ length: size }, (_, i) => i);
  if (opts.seed !== undefined) new Rng(opts.seed).shuffle(order);

  const pointOf = (id: number): Record<string, ParamValue> => {
    const params: Record<string, ParamValue> = {};
    for (let k = names.length - 1; k >= 0; k--) {
      const vs = values[k]!;
      params[names[k]!] = vs[id % vs.length]!;
      id = Math.floor(id / vs.length);
    }
    return params;
  };
  // a trial's grid id, or -1 when its params are not a point of this grid (another space, a manual trial)
  const idOf = (t: TrialRecord): number => {
    let id = 0;
    for (let k = 0; k < names.length; k++) {
      const vs = values[k]!;
      const i = vs.indexOf(t.params[names[k]!]!);
      if (i < 0) return -1;
      id = id * vs.length + i;
    }
    return id;
  };

  return {
    size,
    sample(s: SearchSpace, trials: readonly TrialRecord[], number: number) {
      const keys = Object.keys(s).sort();
      if (keys.length !== names.length || keys.some((k, i) => k !== names[i]))
        throw new Error(`gridSampler: asked for params [${keys}] but the grid was built for [${names}]`);
      const finished = new Set<number>();
      const running = new Set<number>();
      for (const t of trials) {
        if (t.number === number) continue;
        const id = idOf(t);
        if (id < 0) continue;
        (t.state === 'running' ? running : finished).add(id);
      }
      const free = order.find((id) => !finished.has(id) && !running.has(id));
      const notFinished = order.find((id) => !finished.has(id));
      // all taken: revisit the points in order, spread by trial number
      return pointOf(free ?? notFinished ?? order[number % size]!);
    },
  };
}
