// Text formatting of `flowlm runs`: aligned tables, numbers, times, durations, param values, and which way
// a metric improves (the best of a loss is its minimum, of an accuracy its maximum).

/** Columns padded to their widest cell, two spaces apart, a dashed rule under the header. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A metric value: 6 significant digits, NaN and infinities by name. */
export function fmtValue(x: number | undefined): string {
  if (x === undefined) return '-';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x !== 0 && (Math.abs(x) >= 1e6 || Math.abs(x) < 1e-4)) return x.toExponential(4);
  return String(Number(x.toPrecision(6)));
}

const two = (n: number) => String(n).padStart(2, '0');

/** A local time as YYYY-MM-DD HH:MM:SS. */
export function fmtTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** 850ms, 12.3s, 4m05s, 2h03m, 3d04h. */
export function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${two(Math.floor(s % 60))}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${two(m % 60)}m`;
  return `${Math.floor(h / 24)}d${two(h % 24)}h`;
}

/** A param value as typed on a command line: strings bare, anything else as JSON. */
export const fmtParam = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export const clip = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

const LOWER = /(^|[/_.-])(loss|nll|perplexity|ppl|bits_per_byte|bpb|error|err|wer|cer|mse|mae|rmse|regret)([/_.-]|$)/i;
const HIGHER = /(^|[/_.-])(acc|accuracy|f1|score|reward|auc|bleu|rouge\w*|exact_match|em|precision|recall)([/_.-]|$)/i;

/** Which way a metric improves, from its name: 'min' for loss-like keys, 'max' for accuracy-like ones. */
export function bestDirection(key: string): 'min' | 'max' | undefined {
  if (LOWER.test(key)) return 'min';
  if (HIGHER.test(key)) return 'max';
  return undefined;
}
