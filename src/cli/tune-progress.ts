// `flowlm tune`'s progress on stderr: on a terminal a table of the trials (state, params, steps
// reported, best intermediate value, objective) redrawn in place; elsewhere one plain line per event
// (a trial started, pruned or ended), which logs and CI keep readable.
import { betterOf, type TrialEvent } from '../tune/study-runner.ts';
import type { Direction, ParamValue, TrialRecord } from '../tune/types.ts';

interface Out {
  write(s: string): boolean;
  isTTY?: boolean;
}

export const fmtValue = (v: ParamValue | undefined): string =>
  v === undefined ? '-' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v);

const fmtParams = (p: Record<string, ParamValue>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(' ');

function bestIntermediate(t: TrialRecord, direction: Direction): number | undefined {
  let best: number | undefined;
  for (const v of t.intermediate.values())
    if (!Number.isNaN(v) && (best === undefined || betterOf(direction, v, best))) best = v;
  return best;
}

/** The trials as table rows (header first). */
export function trialsTable(trials: readonly TrialRecord[], metric: string, direction: Direction): string[] {
  const keys = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  const rows = [
    ['#', 'state', ...keys, 'reports', `best ${metric}`, metric],
    ...trials.map((t) => [
      String(t.number),
      t.state,
      ...keys.map((k) => fmtValue(t.params[k])),
      String(t.intermediate.size),
      fmtValue(bestIntermediate(t, direction)),
      fmtValue(t.value),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

export function tuneProgress(
  out: Out,
  metric: string,
  direction: Direction,
  mode: 'auto' | 'table' | 'plain' = 'auto',
) {
  const table = mode === 'table' || (mode === 'auto' && out.isTTY === true);
  let drawn = 0;
  let lastDraw = 0;
  const draw = (all: readonly TrialRecord[], force: boolean) => {
    const now = Date.now();
    if (!force && now - lastDraw < 500) return;
    lastDraw = now;
    const lines = trialsTable(all, metric, direction);
    out.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    drawn = lines.length;
  };
  return {
    onEvent: (e: TrialEvent, all: readonly TrialRecord[]) => {
      if (table) return draw(all, e.type !== 'reported');
      const t = e.trial;
      if (e.type === 'started') out.write(`trial ${t.number} started on ${e.devices}: ${fmtParams(t.params)}\n`);
      else if (e.type === 'pruned')
        out.write(`trial ${t.number} pruned at step ${e.step} (${metric} ${fmtValue(t.intermediate.get(e.step))})\n`);
      else if (e.type === 'ended')
        out.write(
          `trial ${t.number} ${t.state}${t.value === undefined ? '' : `: ${metric} ${fmtValue(t.value)}`}` +
            `${t.state === 'failed' ? ` (log: ${e.log})` : ''}\n`,
        );
    },
  };
}
