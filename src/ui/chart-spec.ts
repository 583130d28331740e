// Vega-Lite specs of a run store's metrics, shared by `flowlm ui` (the browser loads this file with its
// types stripped, see server.ts, so it imports nothing at run time) and `flowlm report`: one chart per
// metric key, the runs overlaid by colour (legend: run name and short id), x = step, and TensorBoard's
// smoothing (a debiased exponential moving average) drawn over the faint raw line.
import type { TopLevelSpec } from 'vega-lite';

/** The dataset every chart reads: one row per (run, step), raw and smoothed value side by side. */
export const DATASET = 'points';
/** TensorBoard's default smoothing weight */
export const DEFAULT_SMOOTHING = 0.6;
export const MAX_SMOOTHING = 0.99;

export interface ChartRow {
  run: string;
  label: string;
  step: number;
  value: number | null;
  smoothed: number | null;
}

export interface Series {
  runId: string;
  label: string;
  /** [step, value] in step order; null for NaN (JSON has no NaN) */
  points: readonly (readonly [number, number | null])[];
}

// the keys a training writes, in the order a reader looks for them; other keys follow alphabetically
const KEY_ORDER = ['train/loss', 'val/loss', 'train/lr', 'train/grad_norm', 'train/tokens_per_s'];

export function orderKeys(keys: Iterable<string>): string[] {
  const rank = (k: string) => {
    const i = KEY_ORDER.indexOf(k);
    return i < 0 ? KEY_ORDER.length : i;
  };
  return [...new Set(keys)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The legend's name of a run: its name and the first 8 hex digits of its id (names repeat). */
export const runLabel = (run: { id: string; name: string }): string => `${run.name} · ${run.id.slice(0, 8)}`;

export const clampSmoothing = (w: number): number =>
  Number.isFinite(w) ? Math.min(MAX_SMOOTHING, Math.max(0, w)) : DEFAULT_SMOOTHING;

/**
 * TensorBoard's smoothing: s_t = w s_{t-1} + (1 - w) x_t from s = 0, divided by 1 - w^n (n points so far)
 * so the start is not pulled towards 0. Non-finite values pass through and do not advance the average.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = clampSmoothing(weight);
  let last = 0;
  let n = 0;
  return values.map((x) => {
    if (x === null || !Number.isFinite(x)) return x;
    last = last * w + (1 - w) * x;
    n++;
    return w === 0 ? x : last / (1 - w ** n);
  });
}

export function chartRows(series: readonly Series[], weight: number): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const s of series) {
    const smoothed = smooth(
      s.points.map((p) => p[1]),
      weight,
    );
    s.points.forEach(([step, value], i) => {
      rows.push({ run: s.runId, label: s.label, step, value, smoothed: smoothed[i] ?? null });
    });
  }
  return rows;
}

export interface ChartOptions {
  smoothing: number;
  width?: number;
  height?: number;
  /** every run's label, in legend order, so a run keeps its colour across charts */
  labels?: readonly string[];
}

/** One metric's chart; `rows` from chartRows (the live view replaces them with view.data(DATASET, ...)). */
export function chartSpec(key: string, rows: readonly ChartRow[], opts: ChartOptions): TopLevelSpec {
  const w = clampSmoothing(opts.smoothing);
  const perRun = new Map<string, number>();
  for (const r of rows) perRun.set(r.run, (perRun.get(r.run) ?? 0) + 1);
  // a run of a few points (an evaluation every N steps) shows its points, or one point shows nothing
  const sparse = Math.max(0, ...perRun.values()) <= 12;
  const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1 } } as const;
  const color = {
    field: 'label',
    type: 'nominal',
    title: 'run',
    // the legend's symbols follow the first layer: the faint raw line would make them faint too
    legend: { orient: 'bottom', direction: 'vertical', labelLimit: 400, symbolOpacity: 1, symbolType: 'stroke' },
    ...(opts.labels ? { scale: { domain: [...opts.labels] } } : {}),
  } as const;
  const tooltip = [
    { field: 'label', title: 'run' },
    { field: 'step', type: 'quantitative' },
    { field: 'value', type: 'quantitative', title: key, format: '.5~g' },
    ...(w > 0 ? [{ field: 'smoothed', type: 'quantitative', title: 'smoothed', format: '.5~g' } as const] : []),
  ] as const;
  const y = { type: 'quantitative', title: key, scale: { zero: false } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: key, anchor: 'start' },
    width: opts.width ?? 520,
    height: opts.height ?? 220,
    data: { name: DATASET, values: rows.map((r) => ({ ...r })) },
    layer: [
      // the raw line, faint behind the smoothed one (absent without smoothing: they would coincide)
      ...(w > 0
        ? [
            {
              mark: { type: 'line', opacity: 0.25, strokeWidth: 1.5 },
              encoding: { x, y: { ...y, field: 'value' }, color, detail: { field: 'run' } },
            } as const,
          ]
        : []),
      {
        mark: { type: 'line', strokeWidth: 2, ...(sparse ? { point: { filled: true, size: 30 } } : {}) },
        encoding: { x, y: { ...y, field: 'smoothed' }, color, detail: { field: 'run' }, tooltip },
      },
    ],
  } as TopLevelSpec;
}
