// The physical plan of a training pipeline: the training chain (read shards -> forward-backward ->
// all-reduce -> optimizer step; the operators under operators/train/ that pipelines/train-tiny.ts
// chains, named here by id) replicated once per device, the dataset split by rank, and
// evaluation, checkpoints and metrics on rank 0 alone (as src/nn/train/trainer.ts runs it); with the batch,
// gradient traffic and per-replica memory budgets that follow from the config.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mlpWidth } from '../nn/model/config.ts';
import { paramSpecs, sizeOf } from '../nn/model/params.ts';
import { modelConfigOf, type TrainConfig } from '../nn/train/train-config.ts';
import type { ResolvedDevices } from './devices.ts';
import type { PlanEdge, PlanNode, TrainBudgets, TrainPlan } from './plan-types.ts';

const F32 = 4;
const when = (every: number) => (every === 0 ? 'after the last step' : every === 1 ? 'every step' : `every ${every} steps and after the last`);

/** The shards' row length from their manifest.json (flowlm prep writes it), when it is there. */
function shardSeqLen(dir: string): number | undefined {
  const file = join(resolve(dir), 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { seqLen?: unknown };
    return typeof m.seqLen === 'number' ? m.seqLen : undefined;
  } catch { return undefined; }
}

/** Float32 values a replica keeps alive for the backward pass of one micro-batch (an estimate: layer
 * norms, q/k/v, attention scores and probabilities, MLP hidden and activation, residual outputs). */
function activationFloats(cfg: TrainConfig, rows: number, seqLen: number): number {
  const m = modelConfigOf(cfg);
  const d = m.dModel, f = mlpWidth(m);
  const perLayerPerToken = 10 * d + 2 * f + 2 * m.nHead * seqLen;
  return rows * seqLen * (m.nLayer * perLayerPerToken + 3 * d);
}

export function trainPlan(file: string, cfg: TrainConfig, placed: ResolvedDevices): TrainPlan {
  const notes: string[] = [];
  if (placed.note) notes.push(placed.note);
  const W = placed.devices.length;
  const A = cfg.gradAccum, B = cfg.batchSize;
  const model = modelConfigOf(cfg);
  const manifestLen = shardSeqLen(cfg.data.train);
  const seqLen = cfg.data.seqLen ?? manifestLen ?? model.contextLength;
  if (cfg.data.seqLen === undefined && manifestLen === undefined) notes.push(`${cfg.data.train}/manifest.json not found: sequence length taken as the model's context (${model.contextLength})`);
  const params = paramSpecs(model).reduce((s, p) => s + sizeOf(p.shape), 0);
  const zero = cfg.zero === true && W > 1;
  if (cfg.zero === true && W === 1) notes.push('zero=true at world size 1: nothing to shard, plain AdamW state');
  const transport = W === 1 ? 'none' : placed.kind === 'gpu' ? 'socket' : 'thread';
  const all = Array.from({ length: W }, (_, r) => r);
  const labels = placed.devices.map((d) => d.label);
  const every = (id: string, op: string, detail: string): PlanNode => ({ id, op, replicas: W, ranks: all, devices: labels, detail });
  const lead = (id: string, op: string, detail: string): PlanNode => ({ id, op, replicas: 1, ranks: [0], devices: [labels[0]!], detail });
  const transportText = transport === 'none' ? 'one rank: identity, no communication'
    : transport === 'thread' ? `ring over SharedArrayBuffer between ${W} worker threads`
      : `ring over TCP sockets between ${W} processes (rank 0 listens on the master port)`;

  const nodes: PlanNode[] = [
    every('read-shards', 'train/micro-batches', `${cfg.data.train}: the global row order${cfg.data.shuffle ? ' (shuffled)' : ''}${W === 1 ? `, ${A} micro-batch${A === 1 ? '' : 'es'} per step`
      : `, split by rank: rank r takes ${A === 1 ? 'micro-batch r' : `micro-batches r*${A} to r*${A}+${A - 1}`} of each step's ${W * A}`}`),
    every('forward-backward', 'train/forward-backward', `${A} x ${B} rows x ${seqLen} tokens per rank per step; gradients summed over the micro-batches`),
    every('all-reduce', 'train/all-reduce', `mean of ${params.toLocaleString('en-US')} gradients, ${transportText}`),
    every('optimizer-step', 'train/optimizer-step', zero ? `ZeRO-1 AdamW: rank r keeps 1/${W} of the moments, updates its shard of the parameters, all-gathers them`
      : 'AdamW on every rank with identical averaged gradients (identical weights after each step)'),
    lead('evaluate', 'train/evaluate', `${when(cfg.evalEvery)}: ${cfg.evalBatches} validation micro-batches`),
    lead('checkpoint', 'train/checkpoint', `${when(cfg.checkpointEvery)} into ${cfg.runDir} (unsharded state: resumes at any world size), keep ${cfg.keepLast}`),
    lead('metrics', 'train/metrics-sink', `metrics.jsonl and metrics.parquet in ${cfg.runDir}; progress on stderr`),
  ];
  const edges: PlanEdge[] = [
    { from: 'read-shards', to: 'forward-backward', kind: 'per-rank' },
    { from: 'forward-backward', to: 'all-reduce', kind: 'per-rank' },
    { from: 'all-reduce', to: 'optimizer-step', kind: W === 1 ? 'per-rank' : 'all-ranks' },
    { from: 'optimizer-step', to: 'evaluate', kind: 'rank-0' },
    { from: 'evaluate', to: 'checkpoint', kind: 'rank-0' },
    { from: 'checkpoint', to: 'metrics', kind: 'rank-0' },
  ];

  const gradientBytes = params * F32;
  const momentsPerRank = zero ? Math.ceil(params / W) : params;
  const activations = activationFloats(cfg, B, seqLen) * F32;
  const perReplica = { params: params * F32, grads: gradientBytes, moments: 2 * momentsPerRank * F32, activations, total: 0 };
  perReplica.total = perReplica.params + perReplica.grads + perReplica.moments + perReplica.activations;
  const budgets: TrainBudgets = {
    microBatchRows: B, gradAccum: A, globalBatchRows: W * A * B, seqLen, tokensPerStep: W * A * B * seqLen, params,
    gradientBytesPerStep: gradientBytes, ringBytesSentPerRank: Math.round((2 * (W - 1) / W) * gradientBytes), perReplica,
  };
  notes.push('activations: an estimate for one micro-batch (the output head is computed in row chunks and is not included)');
  return { kind: 'train', file, runDir: cfg.runDir, worldSize: W, devices: placed.devices, transport, zero, nodes, edges, budgets, notes };
}
