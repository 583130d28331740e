// flowlm against a PyTorch reference in the same run (bench train's `vs_torch` figures): the same
// model trained by `flowlm train --devices cpu:N` on GPT-2-tokenized shards of the embedded corpus and
// by bench/torch-train-reference.py (same architecture, AdamW, clipping; random tokens) under the
// system Python (/usr/bin/python3, Debian's python3-torch), rounds alternating the order. PyTorch runs
// with 1 and with 2 threads and the faster counts: on 2 shared cores its second thread can cost more
// than it gives. Nothing is installed: without torch the reference is reported absent.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flowlmTrain, tokensPerSecond } from './_flowlm-train-run.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch-train-reference.py', import.meta.url));

export interface Shape {
  vocab: number;
  context: number;
  layers: number;
  heads: number;
  dModel: number;
}

/** The configs compared: `tiny` and the demo's model (pipelines/demo.ts: micro at d 64, GPT-2 vocab). */
export const SHAPES: Record<string, Shape & { batchPerReplica: number }> = {
  tiny: { vocab: 50257, context: 128, layers: 4, heads: 4, dModel: 128, batchPerReplica: 8 },
  demo: { vocab: 50257, context: 128, layers: 2, heads: 4, dModel: 64, batchPerReplica: 4 },
};

/** torch's version, or why the reference is absent. */
export function torchVersion(): { version?: string; absent?: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { absent: `${PYTHON} not found` };
  if (r.status !== 0) return { absent: `${PYTHON} cannot import torch (apt-get install python3-torch)` };
  return { version: r.stdout.trim() };
}

/** PyTorch's median tokens/s for `shape` at `batch` rows per step on `threads` threads. */
export function torchTokensPerS(shape: Shape, batch: number, threads: number, steps: number): number {
  const args = [shape.vocab, shape.context, shape.layers, shape.heads, shape.dModel, batch, threads, steps];
  const r = spawnSync(PYTHON, [SCRIPT, ...args.map(String)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench train: the PyTorch reference failed:\n${r.stderr.slice(-1500)}`);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { tokens_per_s: number }).tokens_per_s;
}

/** flowlm's tokens/s for `shape` on `devices` (cpu:N: batchPerReplica rows on each of N replicas). */
export async function flowlmTokensPerS(
  shape: Shape & { batchPerReplica: number },
  devices: string,
  prep: string,
  steps: number,
): Promise<{ tokensPerS: number; backend: string }> {
  const replicas = Number(/^cpu:(\d+)$/.exec(devices)?.[1] ?? 1);
  const sets = [
    `data.dir=${prep}`,
    'data.holdoutRows=64',
    'trainer.evalBatches=1',
    'trainer.evalEvery=0',
    'trainer.checkpointEvery=0',
    'trainer.keepLast=1',
    `model.vocabSize=${shape.vocab}`,
    `model.contextLength=${shape.context}`,
    `model.nLayer=${shape.layers}`,
    `model.nHead=${shape.heads}`,
    `model.dModel=${shape.dModel}`,
    'model.dropout=0',
    `trainer.batchSize=${shape.batchPerReplica}`,
    'trainer.gradAccum=1',
    `trainer.steps=${steps}`,
  ];
  const f = await flowlmTrain('train', devices, sets);
  const tokensPerStep = replicas * shape.batchPerReplica * shape.context;
  return {
    tokensPerS: tokensPerSecond('train', f, tokensPerStep),
    backend: String(f.summary.backend_detail ?? f.summary.backend),
  };
}
