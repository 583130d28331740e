// The training stages as operators, chained in plain RxJS over real shards: micro-batches ->
// forward-backward -> all-reduce -> optimizer step -> checkpoint -> evaluate -> metrics sink gives the
// run train() gives (same losses, validation, checkpoints, parameters), also as two ranks joined by
// memoryGroup(2) against world size 1 with accumulation; a stop request ends the chain after the
// current step with a checkpoint, and the stream completes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allReduce } from '../../../operators/train/all-reduce.ts';
import { checkpoint } from '../../../operators/train/checkpoint.ts';
import { evaluateStep } from '../../../operators/train/evaluate.ts';
import { forwardBackward } from '../../../operators/train/forward-backward.ts';
import { writeMetrics } from '../../../operators/train/metrics-sink.ts';
import { microBatches } from '../../../operators/train/micro-batches.ts';
import { optimizerStep } from '../../../operators/train/optimizer-step.ts';
import { shardTrainData } from '../../../operators/train/shard-data.ts';
import type { SinkResult } from '../../../src/core/sink.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { findLatest } from '../../../src/nn/checkpoint/index.ts';
import type { Dist } from '../../../src/nn/train/dist.ts';
import { TrainReplica } from '../../../src/nn/train/replica.ts';
import { stepMetaOf } from '../../../src/nn/train/step-batches.ts';
import { trainConfig, type TrainConfig, type TrainConfigInput } from '../../../src/nn/train/train-config.ts';
import { train, type TrainResult } from '../../../src/nn/train/trainer.ts';
import { memoryGroup } from '../../../src/runtime/collectives/memory-transport.ts';
import { writeTrainShards } from '../../fixtures/train-shards.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-train-chain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const shards = join(tmp, 'shards');
const STEPS = 6;

const cfg = (runDir: string, more: Partial<TrainConfigInput> = {}): TrainConfig => trainConfig({
  runDir, model: { vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16, dropout: 0.1 },
  data: { train: shards, holdoutRows: 16, seqLen: 24 }, batchSize: 4, steps: STEPS, lr: { max: 1e-2, min: 1e-3, warmupSteps: 2 },
  evalEvery: 3, evalBatches: 2, checkpointEvery: 3, keepLast: 5, seed: 3, ...more,
});

/** The chain of one rank, ending in the metrics sink (rank 0) or in its last stage's batches. */
async function chain(c: TrainConfig, dist?: Dist, stop?: AbortSignal): Promise<TrainReplica> {
  const replica = await TrainReplica.open(c, { dist });
  const data = shardTrainData(c, dist);
  const steps = microBatches({ replica, data, seqLen: data.seqLen }).pipe(
    forwardBackward({ replica }),
    allReduce({ replica }),
    optimizerStep({ replica, stop }),
    checkpoint({ replica }),
    evaluateStep({ replica, val: data.val }),
  );
  const end: Observable<unknown> = replica.lead ? steps.pipe(writeMetrics({ dir: c.runDir }, { log: () => undefined })) : steps;
  const last = await lastValueFrom(end, { defaultValue: undefined });
  if (replica.lead) expect((last as SinkResult).files.map((f) => f.split('/').pop())).toEqual(['metrics.jsonl', 'metrics.parquet']);
  return replica;
}

/** Metrics by split/name, each a list ordered by step, from a run's metrics.jsonl. */
function metricsOf(runDir: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as { split: string; name: string; value: number };
    (out[`${r.split}/${r.name}`] ??= []).push(r.value);
  }
  return out;
}
const fileSums = (stepDir: string) => (JSON.parse(readFileSync(join(stepDir, 'state.json'), 'utf8')) as { files: Record<string, { sha256: string }> }).files;

let ref: TrainResult;
let refMetrics: Record<string, number[]>;
beforeAll(async () => {
  await initBackend({ announce: false });
  await writeTrainShards(shards, 4, 32, 64);
  const c = cfg(join(tmp, 'ref'), { gradAccum: 2 });
  const reports: Record<string, number[]> = {};
  ref = await train(c, shardTrainData(c), { onMetrics: (m) => { for (const [k, v] of Object.entries(m.values)) (reports[`${m.split}/${k}`] ??= []).push(v); } });
  refMetrics = reports;
  expect(ref.losses).toHaveLength(STEPS);
}, 120_000);

describe('training chain (operators/train)', () => {
  it('gives the losses, validation, checkpoints and parameters of train()', async () => {
    const dir = join(tmp, 'chain');
    const replica = await chain(cfg(dir, { gradAccum: 2 }));
    expect(replica.step).toBe(STEPS);
    const m = metricsOf(dir);
    expect(m['train/loss']).toEqual(ref.losses);
    expect(m['train/grad_norm']).toEqual(refMetrics['train/grad_norm']);
    expect(m['val/loss']).toEqual(refMetrics['val/loss']);
    expect(m['val/loss']).toHaveLength(2); // steps 3 and 6
    // gpt2 byte lengths of the targets: a few bytes per token, so fewer bits per byte than nats per token
    expect(m['val/bits_per_byte']).toHaveLength(2);
    m['val/bits_per_byte']!.forEach((b, i) => expect(b).toBeLessThan(m['val/loss']![i]! / Math.LN2));
    for (const step of ['step-000003', 'step-000006']) expect(fileSums(join(dir, step))).toEqual(fileSums(join(tmp, 'ref', step)));
    replica.dispose();
  }, 120_000);

  it('as two ranks over memoryGroup(2), gives world size 1\'s losses with accumulation 2', async () => {
    const dir = join(tmp, 'chain-ws2');
    const c = cfg(dir, { gradAccum: 1, zero: true });
    const replicas = await Promise.all(memoryGroup(2).map((collective, rank) => chain(c, { rank, worldSize: 2, collective })));
    const m = metricsOf(dir);
    const diff = Math.max(...m['train/loss']!.map((l, i) => Math.abs(l - ref.losses[i]!)));
    console.log(`training chain at world size 2 (ZeRO-1): max loss diff vs world size 1 with accumulation 2: ${diff}`);
    expect(diff).toBeLessThan(1e-5);
    expect(m['val/loss']).toHaveLength(2);
    const sums = replicas.map((r) => r.model.getParams());
    for (const [name, v] of sums[0]!) expect(Buffer.from(sums[1]!.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
    for (const r of replicas) r.dispose();
  }, 120_000);

  it('a stop request ends the chain after the current step, with a checkpoint and an evaluation', async () => {
    const dir = join(tmp, 'chain-stop');
    const stop = new AbortController();
    const c = cfg(dir, { gradAccum: 2, checkpointEvery: 0, evalEvery: 0 });
    const replica = await TrainReplica.open(c);
    const data = shardTrainData(c);
    await lastValueFrom(microBatches({ replica, data, seqLen: data.seqLen }).pipe(
      forwardBackward({ replica }), allReduce({ replica }), optimizerStep({ replica, stop: stop.signal }),
      // as SIGINT would, arriving after step 1's stop check: the run stops after step 2
      tap((b) => { if (stepMetaOf(b, 'test').step === 1) stop.abort(); }),
      checkpoint({ replica }),
      evaluateStep({ replica, val: data.val }),
      writeMetrics({ dir }, { log: () => undefined }),
    ));
    expect(replica.step).toBe(2);
    expect(replica.finished).toBe(true);
    const m = metricsOf(dir);
    expect(m['train/loss']).toEqual(ref.losses.slice(0, 2));
    expect(m['val/loss']).toHaveLength(1);
    expect((await findLatest(dir))?.step).toBe(2);
    replica.dispose();
  }, 120_000);
});
