// What `flowlm run` reports when a run ends: the JSON summary line (--json), the human table, and the
// one-line messages for a failure or a cancellation.
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { RunResult } from '../runtime/run.ts';
import { count, pad, padLeft, seconds } from './format.ts';
import type { StopSignal } from './signals.ts';

/** The object printed as the last stdout line with --json. */
export function jsonSummary(p: ResolvedPipeline, r: RunResult, signal?: StopSignal): Record<string, unknown> {
  const nodes = Object.fromEntries(
    Object.entries(r.nodes).map(([id, s]) => [
      id,
      {
        op: p.nodes.get(id)?.def.id,
        rowsIn: s.rowsIn,
        rowsOut: s.rowsOut,
        batchesIn: s.batchesIn,
        batchesOut: s.batchesOut,
        bytesIn: s.bytesIn,
        bytesOut: s.bytesOut,
        dropped: s.dropped,
        dropReasons: s.dropReasons,
        busyMs: s.busyMs,
        ...(r.sources[id] ? { peakInFlight: r.sources[id].peakInFlight } : {}),
      },
    ]),
  );
  const out: Record<string, unknown> = { ok: r.ok, pipeline: p.name, durationMs: r.durationMs, nodes, sinks: r.sinks };
  if (r.plan) out.plan = r.plan;
  if (signal) Object.assign(out, { cancelled: true, signal });
  if (r.error) {
    const op = r.error.operator ? p.nodes.get(r.error.operator)?.def.id : undefined;
    out.error = {
      operator: r.error.operator,
      ...(op ? { op } : {}),
      message: r.error.message,
      location: r.error.location ?? {},
    };
  }
  return out;
}

/** The per-node table printed on stdout after a run without --json. */
export function humanSummary(p: ResolvedPipeline, r: RunResult): string {
  const ids = p.order;
  const idW = Math.max(4, ...ids.map((id) => id.length));
  const opW = Math.max(2, ...ids.map((id) => p.nodes.get(id)!.def.id.length));
  const lines = [
    `${p.name}: ${r.ok ? 'done' : 'failed'} in ${seconds(r.durationMs)}`,
    `  ${pad('node', idW)}  ${pad('op', opW)}  ${padLeft('rows in', 12)}  ${padLeft('rows out', 12)}  ${padLeft('batches', 8)}  dropped`,
  ];
  for (const id of ids) {
    const s = r.nodes[id];
    if (!s) continue;
    const reasons = Object.entries(s.dropReasons)
      .map(([why, n]) => `${why}: ${count(n)}`)
      .join(', ');
    lines.push(
      `  ${pad(id, idW)}  ${pad(p.nodes.get(id)!.def.id, opW)}  ${padLeft(count(s.rowsIn), 12)}  ` +
        `${padLeft(count(s.rowsOut), 12)}  ` +
        `${padLeft(count(Math.max(s.batchesIn, s.batchesOut)), 8)}  ${count(s.dropped)}${reasons ? ` (${reasons})` : ''}`,
    );
  }
  for (const sink of r.sinks) for (const f of sink.files) lines.push(`wrote ${f}`);
  return lines.join('\n');
}

/** Rows each sink took and the files it kept, e.g. "write: 1,200 rows, no complete file kept". */
function sinkReport(p: ResolvedPipeline, r: RunResult): string {
  const parts = [...p.nodes.values()]
    .filter((n) => n.def.kind === 'sink')
    .map((n) => {
      const res = r.sinks.find((s) => s.node === n.id);
      const rows = res?.rows ?? r.nodes[n.id]?.rowsIn ?? 0;
      const files = res?.files.length ?? 0;
      return `${n.id}: ${count(rows)} rows, ${files === 0 ? 'no complete file kept' : `${files} file${files === 1 ? '' : 's'} kept`}`;
    });
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

export const cancelLine = (sig: StopSignal, p: ResolvedPipeline, r: RunResult): string =>
  `flowlm: cancelled by ${sig} after ${seconds(r.durationMs)}${sinkReport(p, r)}`;

export function failureLine(p: ResolvedPipeline, r: RunResult): string {
  const op = r.error?.operator ? p.nodes.get(r.error.operator)?.def.id : undefined;
  return `flowlm: ${p.name} failed after ${seconds(r.durationMs)}: ${r.error?.message ?? 'unknown error'}${op ? ` (operator ${op})` : ''}`;
}
