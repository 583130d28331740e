// A metric's items over a task's documents -> its value and standard error. `mean` metrics report the
// standard error of the mean (sample standard deviation / sqrt n, as lm-evaluation-harness's
// mean_stderr); corpus-level metrics (BLEU, perplexity, ECE) a bootstrap: the aggregation recomputed on
// resampled documents, the standard deviation of those values (seeded: the same items give the same
// stderr).
import { Rng } from '../runtime/rng.ts';
import type { MetricItem, MetricSpec } from './task.ts';

export const BOOTSTRAP_ROUNDS = 200;

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (n - 1) over sqrt(n); NaN below two items. */
export function meanStderr(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

function numbers(items: readonly MetricItem[], where: string): number[] {
  return items.map((x, i) => {
    const v = typeof x === 'boolean' ? Number(x) : x;
    if (typeof v !== 'number' || Number.isNaN(v))
      throw new Error(`${where}: item ${i} is ${JSON.stringify(x)}, not a number (a 'mean' metric takes numbers)`);
    return v;
  });
}

/** The spread of `agg` over resampled items. */
export function bootstrapStderr(
  items: readonly MetricItem[],
  agg: (items: readonly MetricItem[]) => number,
  rounds = BOOTSTRAP_ROUNDS,
  seed = 1234,
): number {
  const n = items.length;
  if (n < 2) return Number.NaN;
  const rng = new Rng(seed);
  const values: number[] = [];
  const sample = new Array<MetricItem>(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) sample[i] = items[Math.floor(rng.next() * n)];
    const v = agg(sample);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1));
}

/** Value and stderr of one metric. */
export function aggregateMetric(
  spec: MetricSpec,
  items: readonly MetricItem[],
  where: string,
): { value: number; stderr: number } {
  if (items.length === 0) return { value: Number.NaN, stderr: Number.NaN };
  if (spec.aggregate === 'mean') {
    const xs = numbers(items, where);
    const stderr = spec.stderr === 'none' ? Number.NaN : meanStderr(xs);
    return { value: mean(xs), stderr };
  }
  const agg = spec.aggregate;
  const value = agg(items);
  const stderr = spec.stderr === 'none' || spec.stderr === 'mean' ? Number.NaN : bootstrapStderr(items, agg);
  return { value, stderr };
}
