// `flowlm runs show ID` (one run whole) and `flowlm runs compare ID ID...` (what differs between runs:
// params, and the final and best value of every metric side by side), as text or JSON.
import type { RunRow, RunStore } from '../runs/store.ts';
import { bestDirection, fmtDuration, fmtParam, fmtTime, fmtValue, table } from './runs-format.ts';
import { metricSummaries, shortId, type MetricSummary } from './runs-store.ts';

/** JSON with NaN and the infinities as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
export const toJson = (v: unknown, indent?: number): string =>
  JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), indent);

export function showRun(store: RunStore, run: RunRow, json: boolean): string {
  const params = store.params(run.id);
  const metrics = metricSummaries(store, run.id);
  const artifacts = store.artifacts(run.id);
  if (json) return toJson({ ...run, params, metrics, artifacts });
  const end = run.endedAt ?? Date.now();
  const fields: [string, string][] = [
    ['id', run.id],
    ['name', run.name],
    ['status', run.status],
    ...(run.error ? [['error', run.error.split('\n').join('\n' + ' '.repeat(14))] as [string, string]] : []),
    ['command', `flowlm ${run.command} ${run.argv.join(' ')}`.trim()],
    ['started', fmtTime(run.startedAt)],
    ['ended', run.endedAt === null ? '-' : fmtTime(run.endedAt)],
    ['duration', `${fmtDuration(end - run.startedAt)}${run.endedAt === null ? ' (running)' : ''}`],
    ['process', `${run.host} pid ${run.pid}`],
    ['git', run.git.commit ? `${run.git.commit}${run.git.dirty ? ' (uncommitted changes)' : ''}` : '-'],
    ['config hash', run.configHash ?? '-'],
    ['run dir', run.runDir ?? '-'],
    ...(run.studyId ? [['study', `${run.studyId} trial ${run.trial}`] as [string, string]] : []),
    [
      'env',
      Object.entries(run.env)
        .map(([k, v]) => `${k}=${fmtParam(v)}`)
        .join(' ') || '-',
    ],
  ];
  const out = fields.map(([k, v]) => `${k.padEnd(12)}  ${v}`);
  const keys = Object.keys(params);
  out.push('', `params (${keys.length})`);
  if (keys.length) out.push(...keys.map((k) => `  ${k} = ${fmtParam(params[k])}`));
  out.push('', `metrics (${metrics.length} keys)`);
  if (metrics.length)
    out.push(
      table(
        ['key', 'steps', 'last step', 'last', 'min', 'max'],
        metrics.map((m) => [
          m.key,
          String(m.steps),
          String(m.lastStep),
          fmtValue(m.last),
          fmtValue(m.min),
          fmtValue(m.max),
        ]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  out.push('', `artifacts (${artifacts.length})`);
  for (const a of artifacts) out.push(`  ${a.kind.padEnd(10)}  ${a.path}${a.bytes ? `  ${a.bytes} bytes` : ''}`);
  return out.join('\n');
}

export interface MetricComparison {
  key: string;
  /** how best is taken: 'min' for loss-like keys, 'max' for accuracy-like ones, none otherwise */
  best: 'min' | 'max' | null;
  /** per run, in the order compared; null where the run did not log the key */
  final: (number | null)[];
  bestValue: (number | null)[];
  bestStep: (number | null)[];
}

export interface Comparison {
  runs: { id: string; name: string; status: string }[];
  /** params whose values differ, with the value of each run (null: the run has no such param) */
  paramsDiffer: Record<string, unknown[]>;
  paramsEqual: number;
  metrics: MetricComparison[];
}

export function comparison(store: RunStore, runs: readonly RunRow[]): Comparison {
  const params = runs.map((r) => store.params(r.id));
  const keys = [...new Set(params.flatMap((p) => Object.keys(p)))].sort();
  const paramsDiffer: Record<string, unknown[]> = {};
  let paramsEqual = 0;
  for (const k of keys) {
    const texts = params.map((p) => (k in p ? JSON.stringify(p[k]) : undefined));
    if (texts.every((t) => t !== undefined && t === texts[0])) paramsEqual++;
    else paramsDiffer[k] = params.map((p) => (k in p ? p[k] : null));
  }
  const summaries = runs.map((r) => new Map(metricSummaries(store, r.id).map((m) => [m.key, m])));
  const metricKeys = [...new Set(summaries.flatMap((s) => [...s.keys()]))].sort();
  const metrics = metricKeys.map((key): MetricComparison => {
    const best = bestDirection(key) ?? null;
    const of = (s: Map<string, MetricSummary>) => s.get(key);
    return {
      key,
      best,
      final: summaries.map((s) => of(s)?.last ?? null),
      bestValue: summaries.map((s) => (best && of(s) ? of(s)![best] : null)),
      bestStep: summaries.map((s) => (best && of(s) ? of(s)![best === 'min' ? 'minStep' : 'maxStep'] : null)),
    };
  });
  return { runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status })), paramsDiffer, paramsEqual, metrics };
}

export function compareRuns(store: RunStore, runs: readonly RunRow[], json: boolean): string {
  const c = comparison(store, runs);
  if (json) return toJson(c);
  const heads = c.runs.map((r) => shortId(r.id));
  const out = [
    table(
      ['run', 'name', 'status'],
      c.runs.map((r) => [shortId(r.id), r.name, r.status]),
    ),
    '',
  ];
  const differ = Object.entries(c.paramsDiffer);
  out.push(`params: ${differ.length} differ, ${c.paramsEqual} equal`);
  if (differ.length)
    out.push(
      table(
        ['param', ...heads],
        differ.map(([k, vs]) => [k, ...vs.map((v) => (v === null ? '-' : fmtParam(v)))]),
      ),
    );
  out.push('', `metrics: final value, and best (min of loss-like keys, max of accuracy-like ones) @ step`);
  const cell = (v: number | null, step?: number | null) =>
    v === null ? '-' : `${fmtValue(v)}${step !== undefined && step !== null ? ` @${step}` : ''}`;
  const rows: string[][] = [];
  for (const m of c.metrics) {
    rows.push([m.key, 'final', ...m.final.map((v) => cell(v))]);
    if (m.best) rows.push(['', `best (${m.best})`, ...m.bestValue.map((v, i) => cell(v, m.bestStep[i]))]);
  }
  out.push(rows.length ? table(['metric', '', ...heads], rows) : '(no metrics)');
  return out.join('\n');
}
