// A physical plan as readable text: a header, the node table, the edges and the budgets.
import { bytes, count, pad } from '../cli/format.ts';
import { bytesText } from './data-plan.ts';
import type { DataPlan, PhysicalPlan, PlanNode, TrainPlan } from './plan-types.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!))).join('  ').trimEnd()).join('\n');
}

const nodeRows = (nodes: PlanNode[], where: (n: PlanNode) => string): string[][] => [
  ['NODE', 'OP', 'REPLICAS', 'WHERE', 'DETAIL'],
  ...nodes.map((n) => [n.id, n.op, String(n.replicas), where(n), n.detail]),
];

const edgeLines = (p: PhysicalPlan): string => table([['FROM', 'TO', 'KIND'], ...p.edges.map((e) => [e.from, e.to, e.kind])]);

function trainText(p: TrainPlan): string {
  const b = p.budgets;
  const m = b.perReplica;
  const ranks = (n: PlanNode) => (n.ranks && n.ranks.length === p.worldSize && p.worldSize > 1 ? `every rank (${n.devices.join(', ')})` : `rank 0 (${n.devices[0]})`);
  const transport = p.transport === 'none' ? 'none (one rank)' : p.transport === 'thread' ? 'ring all-reduce over SharedArrayBuffer (threads)' : 'ring all-reduce over TCP (processes)';
  return [
    `training plan: ${p.file}`,
    `devices: ${p.devices.map((d) => d.label).join(', ')} (world size ${p.worldSize}); transport: ${transport}; optimizer: ${p.zero ? 'ZeRO-1 sharded AdamW' : 'AdamW'}`,
    `run directory: ${p.runDir}`,
    '',
    table(nodeRows(p.nodes, ranks)),
    '',
    edgeLines(p),
    '',
    'budgets:',
    table([
      ['  micro-batch', `${b.microBatchRows} rows x ${b.seqLen} tokens`],
      ['  global batch', `${b.globalBatchRows} rows (${p.worldSize} ranks x ${b.gradAccum} accumulation x ${b.microBatchRows}), ${count(b.tokensPerStep)} tokens per step`],
      ['  parameters', count(b.params)],
      ['  gradients per step', `${bytes(b.gradientBytesPerStep)} all-reduced; ${bytes(b.ringBytesSentPerRank)} sent per rank`],
      ['  memory per replica', `${bytes(m.total)}: params ${bytes(m.params)}, grads ${bytes(m.grads)}, moments ${bytes(m.moments)}${p.zero ? ` (1/${p.worldSize} shard)` : ''}, activations ~${bytes(m.activations)}`],
    ]),
    ...(p.notes.length ? ['', ...p.notes.map((n) => `note: ${n}`)] : []),
  ].join('\n');
}

function dataText(p: DataPlan): string {
  const b = p.budgets;
  return [
    `data pipeline plan: ${p.name} (${p.file})`,
    '',
    table(nodeRows(p.nodes, (n) => n.devices.join(', '))),
    '',
    edgeLines(p),
    '',
    'budgets:',
    `  pipeline: ${b.pipeline.maxInFlight} batches / ${bytesText(b.pipeline.maxInFlightBytes)} in flight per source`,
    ...b.sources.map((s) => `  source ${s.source}: ${s.maxInFlight} batches / ${bytesText(s.maxInFlightBytes)}`),
    `  worker threads: ${b.workerThreads}`,
    ...(p.notes.length ? ['', ...p.notes.map((n) => `note: ${n}`)] : []),
  ].join('\n');
}

export const planText = (p: PhysicalPlan): string => (p.kind === 'train' ? trainText(p) : dataText(p));
