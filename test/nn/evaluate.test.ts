// Evaluation numbers: the validation loss is the plain next-token NLL per target token whatever the
// training label smoothing, padding excluded and batches weighed by their targets; perplexity is its
// exp; bits per byte is the total NLL / ln 2 / the targets' UTF-8 bytes. Each is checked against an
// independent computation from the model's logits with tf ops, on sentences of Moby-Dick as bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { evaluate } from '../../src/nn/eval/evaluate.ts';
import type { Gpt } from '../../src/nn/model/gpt.ts';
import { inputsOf, type PackedBatch } from '../../src/nn/objective/loss.ts';
import { TrainReplica } from '../../src/nn/train/replica.ts';
import { trainConfig } from '../../src/nn/train/train-config.ts';
import { BYTE_EOS, BYTE_VOCAB, packDocs, sentenceDocs } from './prose-docs.ts';

const tmp = mkdtempSync(join(tmpdir(), 'flowlm-evaluate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend({ announce: false });
});

/** Per-target NLL from the logits (h W^T, log-softmax), with the target ids and their weights. */
function targetNll(model: Gpt, b: PackedBatch): Array<{ nll: number; id: number; w: number }> {
  const logp = tf.tidy(
    () =>
      tf.logSoftmax(tf.matMul(model.hidden(inputsOf(b)), model.headMatrix(), false, true)).arraySync() as number[][],
  );
  const w = b.seqLen + 1;
  const out: Array<{ nll: number; id: number; w: number }> = [];
  for (let r = 0; r < b.batch; r++) {
    for (let i = 0; i < b.seqLen; i++) {
      const id = b.inputIds[r * w + i + 1]!;
      out.push({ nll: -logp[r * b.seqLen + i]![id]!, id, w: b.attentionMask ? b.attentionMask[r * w + i + 1]! : 1 });
    }
  }
  return out;
}

/** Two validation batches of unequal weight: 3 full rows, then 2 rows of which one is mostly padding. */
function valBatches(): PackedBatch[] {
  const full = packDocs(sentenceDocs(20, 30), 3, 24);
  const short = packDocs(sentenceDocs(12, 30, 40), 2, 24);
  const mask = new Uint8Array(2 * 25).fill(1);
  mask.fill(0, 25 + 6); // row 2: 6 real tokens (5 targets), then padding
  for (let i = 25 + 6; i < 50; i++) short.inputIds[i] = 0;
  return [
    { ...full, docStarts: undefined },
    { ...short, docStarts: undefined, attentionMask: mask },
  ];
}

async function* each(batches: PackedBatch[]): AsyncGenerator<PackedBatch> {
  yield* batches;
}

describe('evaluate', () => {
  it('perplexity is exp(mean NLL per target token), without the training label smoothing', async () => {
    const cfg = trainConfig({
      runDir: join(tmp, 'run'),
      model: { vocabSize: BYTE_VOCAB, contextLength: 32, nLayer: 2, nHead: 2, dModel: 16, initStd: 0.2 },
      data: { train: join(tmp, 'unused') },
      steps: 1,
      labelSmoothing: 0.1,
      evalBatches: 8,
      seed: 4,
    });
    const replica = await TrainReplica.open(cfg);
    const batches = valBatches();
    const r = (await replica.evaluate(each(batches)))!;
    const all = batches.flatMap((b) => targetNll(replica.model, b)).filter((t) => t.w === 1);
    const mean = all.reduce((s, t) => s + t.nll, 0) / all.length;
    console.log(
      `val loss ${r.loss.toFixed(6)} (independent ${mean.toFixed(6)}), perplexity ${r.perplexity.toFixed(4)} over ${r.tokens} targets`,
    );
    expect(Math.abs(r.loss - mean) / mean).toBeLessThan(1e-5);
    expect(Math.abs(r.perplexity - Math.exp(mean)) / Math.exp(mean)).toBeLessThan(1e-5);
    expect(all).toHaveLength(3 * 24 + 24 + 5);
    expect(r.tokens).toBe(all.length);
    expect(r.batches).toBe(2);
    replica.dispose();
  });

  it('bits per byte is the total NLL / ln 2 / the UTF-8 bytes of the targets', async () => {
    const cfg = trainConfig({
      runDir: join(tmp, 'run-bpb'),
      model: { vocabSize: BYTE_VOCAB, contextLength: 32, nLayer: 1, nHead: 2, dModel: 8 },
      data: { train: join(tmp, 'unused') },
      steps: 1,
      seed: 9,
    });
    const replica = await TrainReplica.open(cfg);
    const model = replica.model;
    // a made-up tokenizer: byte token t stands for 1 + t % 3 bytes, EOS for none
    const bytesOf = (id: number) => (id === BYTE_EOS ? 0 : 1 + (id % 3));
    const table = Int32Array.from({ length: BYTE_VOCAB }, (_, id) => bytesOf(id));
    const batches = valBatches();
    const all = batches.flatMap((b) => targetNll(model, b)).filter((t) => t.w === 1);
    const nll = all.reduce((s, t) => s + t.nll, 0);
    const bytes = all.reduce((s, t) => s + bytesOf(t.id), 0);
    expect(all.some((t) => t.id === BYTE_EOS)).toBe(true);
    const byTable = await evaluate(model, each(batches), 8, { tokenBytes: table });
    const byFn = await evaluate(model, each(batches), 8, { tokenBytes: bytesOf });
    const viaReplica = (await replica.evaluate(each(batches), { tokenBytes: table }))!;
    const hand = nll / Math.LN2 / bytes;
    console.log(
      `bits per byte ${byTable.bitsPerByte!.toFixed(6)} (hand ${hand.toFixed(6)}; ${all.length} targets, ${bytes} bytes)`,
    );
    expect(Math.abs(byTable.bitsPerByte! - hand) / hand).toBeLessThan(1e-5);
    expect(byFn.bitsPerByte).toBe(byTable.bitsPerByte);
    expect(viaReplica.bitsPerByte).toBe(byTable.bitsPerByte);
    expect((await evaluate(model, each(batches), 8)).bitsPerByte).toBeUndefined();
    // an id the table does not cover is an error that says so
    await expect(evaluate(model, each(batches), 8, { tokenBytes: table.subarray(0, 100) })).rejects.toThrow(
      /token id \d+ has no byte length/,
    );
    replica.dispose();
  });
});
