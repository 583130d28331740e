// A physical plan as readable text: a header, the resources, the node table, the edges and budgets.
import { bytes, count, pad } from '../cli/format.ts';
import { bytesText } from './physical-plan.ts';
import type { PhysicalPlan, TrainBudgets } from './plan-types.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : pad(cell, widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function trainLines(b: TrainBudgets, worldSize: number): string[] {
  const m = b.perReplica;
  return [
    `  training (${b.trainer}, run directory ${b.runDir}):`,
    table([
      ['    micro-batch', `${b.microBatchRows} rows x ${b.seqLen} tokens`],
      [
        '    global batch',
        `${b.globalBatchRows} rows (${worldSize} ranks x ${b.gradAccum} accumulation x ${b.microBatchRows}), ` +
          `${count(b.tokensPerStep)} tokens per step`,
      ],
      ['    parameters', count(b.params)],
      [
        '    gradients per step',
        `${bytes(b.gradientBytesPerStep)} all-reduced; ${bytes(b.ringBytesSentPerRank)} sent per rank`,
      ],
      [
        '    memory per replica',
        `${bytes(m.total)}: params ${bytes(m.params)}, grads ${bytes(m.grads)}, moments ${bytes(m.moments)}${b.zero ? ` (1/${worldSize} shard, ZeRO-1)` : ''}, activations ~${bytes(m.activations)}`,
      ],
    ]),
  ];
}

export function planText(p: PhysicalPlan): string {
  const b = p.budgets;
  const transport =
    p.transport === 'none'
      ? 'none (one rank)'
      : p.transport === 'thread'
        ? 'ring all-reduce over SharedArrayBuffer (threads)'
        : 'ring all-reduce over TCP (processes)';
  const ranks = (r: number[]) =>
    r.length === p.worldSize && p.worldSize > 1
      ? 'every rank'
      : r.length === 1
        ? `rank ${r[0]}`
        : `ranks ${r.join(', ')}`;
  return [
    `plan: ${p.name} (${p.file})`,
    `devices: ${p.devices.map((d) => d.label).join(', ')} (world size ${p.worldSize}); transport: ${transport}`,
    ...(p.resources.length
      ? [
          '',
          table([
            ['RESOURCE', 'KIND', 'WHERE', 'DETAIL'],
            ...p.resources.map((r) => [r.name, r.kind, ranks(r.ranks), r.detail]),
          ]),
        ]
      : []),
    '',
    table([
      ['NODE', 'OP', 'PLACEMENT', 'REPLICAS', 'WHERE', 'DETAIL'],
      ...p.nodes.map((n) => [
        n.id,
        n.op,
        n.placement,
        String(n.replicas),
        `${ranks(n.ranks)} (${n.devices.join(', ')})`,
        n.detail,
      ]),
    ]),
    '',
    table([['FROM', 'TO', 'KIND'], ...p.edges.map((e) => [e.from, e.to, e.kind])]),
    '',
    'budgets:',
    `  pipeline: ${b.pipeline.maxInFlight} batches / ${bytesText(b.pipeline.maxInFlightBytes)} in flight per source`,
    ...b.sources.map(
      (s) =>
        `  ${s.source}: ${s.maxInFlight} batch${s.maxInFlight === 1 ? '' : 'es'} / ${bytesText(s.maxInFlightBytes)}`,
    ),
    `  worker threads: ${b.workerThreads}`,
    ...(b.train ? trainLines(b.train, p.worldSize) : []),
    ...(p.notes.length ? ['', ...p.notes.map((n) => `note: ${n}`)] : []),
  ].join('\n');
}
