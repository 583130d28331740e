// The physical plan of a data pipeline as `flowlm run` would run it: each node with its worker
// parallelism (a parallel operator's kernel on N worker threads, or inline on the main thread), the
// edges with their fan-out/fan-in, and the credit budgets that bound what is in flight per source.
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { DataPlan, PlanEdge, PlanNode } from './plan-types.ts';

const MiB = 1024 * 1024;
/** Binary units, as budgets are usually given (256M = 256 MiB). */
export const bytesText = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`);

export function dataPlan(file: string, p: ResolvedPipeline): DataPlan {
  const nodes: PlanNode[] = [];
  const edges: PlanEdge[] = [];
  const sources: DataPlan['budgets']['sources'] = [];
  let workerThreads = 0;
  for (const id of p.order) {
    const n = p.nodes.get(id)!;
    const kind = n.def.kind ?? 'transform';
    const parts: string[] = [kind];
    if (n.workers > 0) parts.push(`kernel on ${n.workers} worker thread${n.workers === 1 ? '' : 's'}, order preserved`);
    else parts.push('inline on the main thread');
    if (n.inputs.length > 1) parts.push(`fan-in of ${n.inputs.length}`);
    if (n.outputs.length > 1) parts.push(`fan-out to ${n.outputs.length}`);
    if (kind === 'source') {
      sources.push({ source: id, maxInFlight: n.budget.maxInFlight, maxInFlightBytes: n.budget.maxInFlightBytes });
      parts.push(`credits: ${n.budget.maxInFlight} batches / ${bytesText(n.budget.maxInFlightBytes)} in flight`);
    }
    workerThreads += n.workers;
    nodes.push({ id, op: n.def.id, replicas: Math.max(1, n.workers), devices: [n.workers > 0 ? `worker-pool:${n.workers}` : 'main'], detail: parts.join('; ') });
    for (const to of n.outputs) {
      const fanIn = (p.nodes.get(to)?.inputs.length ?? 0) > 1;
      const fanOut = n.outputs.length > 1;
      edges.push({ from: id, to, kind: fanOut && fanIn ? 'fan-out+fan-in' : fanOut ? 'fan-out' : fanIn ? 'fan-in' : '1:1' });
    }
  }
  const notes = [
    'a source emits a batch only while it holds credit: at most maxInFlight batches and maxInFlightBytes bytes between it and the sinks',
    ...(workerThreads > 0 ? ['batches move to worker threads as transferable Arrow IPC buffers'] : []),
  ];
  return {
    kind: 'data', file, name: p.name, nodes, edges,
    budgets: { pipeline: { maxInFlight: p.budget.maxInFlight, maxInFlightBytes: p.budget.maxInFlightBytes }, sources, workerThreads },
    notes,
  };
}
