// The scheduler: a validated spec plus the devices it runs on become one physical plan. A graph with
// replicated nodes (placement 'replica': the training chain) runs once per device, one rank each;
// rank-0 nodes run on rank 0 alone; worker-pool nodes run their kernel on `workers` threads of each
// rank that runs them; credit scopes (sources, and transforms that open their own) get their budget.
import { creditsOf } from '../graph/credits.ts';
import type { ResolvedPipeline } from '../graph/validate.ts';
import type { Device, ResolvedDevices } from './devices.ts';
import type { PhysicalPlan, PlanEdge, PlanNode, PlanResource, SourceBudget } from './plan-types.ts';
import { trainBudgets, trainConfigOf } from './train-budgets.ts';

const MiB = 1024 * 1024;
/** Binary units, as budgets are usually given (256M = 256 MiB). */
export const bytesText = (n: number) =>
  n % MiB === 0 ? `${n / MiB} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`;

/** The one device of a run that is not replicated: this process's main thread. */
export const MAIN_DEVICE: Device = { kind: 'cpu', index: 0, label: 'main' };

/** Whether the spec has a replicated part (a training chain) that --devices spreads over ranks. */
export const isReplicated = (p: ResolvedPipeline): boolean =>
  [...p.nodes.values()].some((n) => n.placement === 'replica');

export function physicalPlan(file: string, p: ResolvedPipeline, placed?: ResolvedDevices): PhysicalPlan {
  const notes: string[] = [];
  if (placed?.note) notes.push(placed.note);
  const devices = placed?.devices ?? [MAIN_DEVICE];
  const W = devices.length;
  const all = Array.from({ length: W }, (_, r) => r);
  const labels = devices.map((d) => d.label);
  const transport = W === 1 ? 'none' : placed?.kind === 'gpu' ? 'socket' : 'thread';
  const nodes: PlanNode[] = [];
  const edges: PlanEdge[] = [];
  const sources: SourceBudget[] = [];
  let workerThreads = 0;
  // nodes that feed a replicated node run on every rank (each rank's replica takes its share of their
  // output); the rest of an 'any' graph (e.g. the prep branch that writes shards) runs once, on rank 0
  const feeds = new Set<string>();
  const up = (id: string) => {
    for (const i of p.nodes.get(id)?.inputs ?? [])
      if (!feeds.has(i)) {
        feeds.add(i);
        up(i);
      }
  };
  for (const n of p.nodes.values()) if (n.placement === 'replica') up(n.id);
  for (const id of p.order) {
    const n = p.nodes.get(id)!;
    const kind = n.def.kind ?? 'transform';
    const ranks = n.placement === 'rank0' ? [0] : n.placement === 'replica' || feeds.has(id) ? all : [0];
    const credits = creditsOf(n);
    const parts: string[] = [n.def.description];
    if (n.after.length > 0)
      parts.push(`starts when ${n.after.join(', ')} ${n.after.length === 1 ? 'has' : 'have'} finished`);
    if (n.workers > 0)
      parts.push(`kernel on ${n.workers} worker thread${n.workers === 1 ? '' : 's'} per rank, order preserved`);
    if (W > 1) {
      parts.push(
        n.placement === 'replica'
          ? 'one replica per rank'
          : ranks.length === W
            ? 'on every rank (it feeds the replicas)'
            : `rank 0 only (other ranks: ${kind === 'sink' ? 'batches dropped' : kind === 'source' ? 'nothing read' : 'batches passed on'})`,
      );
    }
    if (credits) {
      sources.push({ source: id, ...credits });
      parts.push(
        `credits: ${credits.maxInFlight} batch${credits.maxInFlight === 1 ? '' : 'es'} / ${bytesText(credits.maxInFlightBytes)} in flight`,
      );
    }
    workerThreads += n.workers * ranks.length;
    nodes.push({
      id,
      op: n.def.id,
      kind,
      placement: n.placement,
      ranks,
      workers: n.workers,
      replicas: ranks.length * Math.max(1, n.workers),
      devices: ranks.map((r) => (n.workers > 0 ? `${labels[r]}+worker-pool:${n.workers}` : labels[r]!)),
      inputs: [...n.inputs],
      ...(credits ? { credits } : {}),
      uses: n.uses.map((u) => u.name),
      ...(n.after.length ? { after: [...n.after] } : {}),
      detail: parts.join('; '),
    });
    for (const a of n.after) edges.push({ from: a, to: id, kind: 'blocking: starts when it has finished' });
    for (const to of n.outputs) {
      const fanIn = (p.nodes.get(to)?.inputs.length ?? 0) > 1;
      const fanOut = n.outputs.length > 1;
      const toRank0 = W > 1 && p.nodes.get(to)?.placement === 'rank0' && n.placement !== 'rank0';
      edges.push({
        from: id,
        to,
        kind: `${fanOut && fanIn ? 'fan-out+fan-in' : fanOut ? 'fan-out' : fanIn ? 'fan-in' : '1:1'}${toRank0 ? ', to rank 0' : W > 1 ? ', per rank' : ''}`,
      });
    }
  }
  const resources: PlanResource[] = [...p.resources.values()].map((r) => ({
    name: r.name,
    kind: r.kind,
    ranks: all,
    detail: `${r.def.describe?.(r.config as never) ?? r.def.description}${W > 1 ? '; one per rank' : ''}`,
  }));
  const trainer = [...p.resources.values()].find((r) => r.kind === 'nn/trainer');
  const tc = trainer ? trainConfigOf(p, trainer.name) : undefined;
  const train = tc ? trainBudgets(trainer!.name, tc.cfg, tc.dataDir, W, notes) : undefined;
  if (W > 1)
    notes.push(
      `${W} ranks (${labels.join(', ')}) each run the graph; gradients meet in all-reduce (${transport === 'thread' ? 'ring over SharedArrayBuffer between worker threads' : 'ring over TCP between processes'})`,
    );
  notes.push(
    'a credit scope emits a batch only while it holds credit: at most maxInFlight batches and maxInFlightBytes ' +
      'bytes between it and the sinks',
  );
  if (workerThreads > 0) notes.push('batches move to worker threads as transferable Arrow IPC buffers');
  return {
    kind: 'plan',
    file,
    name: p.name,
    worldSize: W,
    devices,
    transport,
    resources,
    nodes,
    edges,
    budgets: { pipeline: { ...p.budget }, sources, workerThreads, ...(train ? { train } : {}) },
    notes,
  };
}
