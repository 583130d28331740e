// Eval results as a text table: task, metric, value ± stderr, n, and the metric's chance level.
import type { EvalResultRow } from '../eval/task.ts';

const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 1000 ? x.toFixed(1) : x.toPrecision(4)) : '-');

export function formatEvalTable(rows: readonly EvalResultRow[], chance: Map<string, Map<string, number>>): string {
  const body = rows.map((r) => [
    r.task,
    r.metric,
    Number.isFinite(r.stderr) ? `${fmt(r.value)} ± ${fmt(r.stderr)}` : fmt(r.value),
    String(r.n),
    chance.get(r.task)?.has(r.metric) ? fmt(chance.get(r.task)!.get(r.metric)!) : '',
  ]);
  const head = ['task', 'metric', 'value', 'n', 'chance'];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
