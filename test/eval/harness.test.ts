// The harness against a direct forward pass: every continuation's log-likelihood equals log-softmax of
// the model's logits over the same tokens, run alone and unpadded (log-softmax in float64 of the
// float32 logits), to 1e-5; greedy flags agree with the argmax; rolling log-likelihood predicts every token of a long text
// exactly once; and scores are bit-identical whatever the batch size (1, 3, 8). Real text: Moby-Dick.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mobyDickChapters } from '../../operators/ingest/embedded-corpus.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { rollingWindows, scoreTokens } from '../../src/nn/eval/loglik.ts';
import { Gpt } from '../../src/nn/model/gpt.ts';
import { answer, encodePair } from '../../src/eval/harness.ts';
import { tokenizerFor } from '../../src/eval/tokenizer.ts';
import type { EvalRequest } from '../../src/eval/task.ts';
import { expectBatchInvariant, rowInvariant } from '../nn/batch-invariance.ts';

const tok = tokenizerFor('gpt2');
let model: Gpt;
const chapter = readFileSync(join(dirname(mobyDickChapters()), 'chapter_3.txt'), 'utf8');
const sentences = chapter
  .split(/(?<=[.!?])\s+/)
  .map((s) => s.replace(/\s+/g, ' ').trim())
  .filter((s) => s.split(' ').length >= 6)
  .slice(0, 24);

beforeAll(async () => {
  await initBackend({ announce: false });
  model = Gpt.create(
    { vocabSize: 50257, contextLength: 32, nLayer: 2, nHead: 2, dModel: 32, mlpRatio: 2, dropout: 0 },
    { seed: 7 },
  );
});

/** Log-probabilities of `ids[i+1]` after ids[0..i] for the last `n` targets, from one unpadded row: the
 * full logits of a plain forward pass, log-softmax taken in float64, and the argmax. */
function direct(ids: number[], n: number): { logp: number[]; argmax: number[] } {
  const input = ids.slice(0, -1);
  const T = input.length;
  const t = tf.tidy(() =>
    tf.matMul(model.hidden({ ids: Int32Array.from(input), batch: 1, seqLen: T }), model.headMatrix(), false, true),
  );
  const logits = t.dataSync() as Float32Array;
  const V = t.shape[1]!;
  t.dispose();
  const logp: number[] = [];
  const argmax: number[] = [];
  for (let p = T - n; p < T; p++) {
    const row = logits.subarray(p * V, (p + 1) * V);
    let m = -Infinity;
    let best = 0;
    for (let i = 0; i < V; i++)
      if (row[i]! > m) {
        m = row[i]!;
        best = i;
      }
    let s = 0;
    for (let i = 0; i < V; i++) s += Math.exp(row[i]! - m);
    logp.push(row[ids[p + 1]!]! - m - Math.log(s));
    argmax.push(best);
  }
  return { logp, argmax };
}

const requests = (): EvalRequest[] =>
  sentences.map((s, i) => {
    const words = s.split(' ');
    const cut = Math.min(words.length - 1, 2 + ((i * 7) % 40));
    return {
      kind: 'loglikelihood',
      context: words.slice(0, cut).join(' '),
      continuation: ` ${words.slice(cut, cut + 1 + (i % 6)).join(' ')}`,
    };
  });

describe('eval harness: log-likelihood', () => {
  it('equals a direct forward pass over the same tokens (1e-5), long inputs cut from the left', () => {
    const reqs = requests();
    const got = answer(model, tok, reqs, { batchSize: 5 });
    let cut = 0;
    reqs.forEach((r, i) => {
      if (r.kind !== 'loglikelihood') throw new Error('kind');
      const { context, continuation } = encodePair(tok, r.context, r.continuation);
      const full = [...context, ...continuation].slice(-(32 + 1));
      if (context.length + continuation.length > 33) cut++;
      const d = direct(full, continuation.length);
      const res = got[i]!;
      if (res.kind !== 'loglikelihood') throw new Error('kind');
      expect(res.tokens).toBe(continuation.length);
      expect(Math.abs(res.loglik - d.logp.reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
      expect(res.greedy).toBe(d.argmax.every((a, k) => a === continuation[k]));
    });
    expect(cut).toBeGreaterThan(0); // some inputs were longer than the context
  });

  it('gives identical scores for batch sizes 1, 3 and 8 (to float32 rounding where the matmul is not row-invariant)', async () => {
    const reqs = requests();
    const [a, b, c] = [1, 3, 8].map((batchSize) => answer(model, tok, reqs, { batchSize }));
    const invariant = await rowInvariant();
    expectBatchInvariant(b, a, invariant);
    expectBatchInvariant(c, a, invariant);
  });

  it("moves the context's trailing space into the continuation; an empty context is <|endoftext|>", () => {
    const a = encodePair(tok, 'Call me ', 'Ishmael');
    const b = encodePair(tok, 'Call me', ' Ishmael');
    expect(a).toEqual(b);
    expect(tok.decode(a.continuation)).toBe(' Ishmael');
    expect(encodePair(tok, '', 'Call me').context).toEqual([tok.eot]);
  });
});

describe('eval harness: rolling log-likelihood', () => {
  it('predicts every token once: windows cover the text, and the sum equals per-window direct passes', async () => {
    const ids = tok.encode(sentences.slice(0, 8).join(' '));
    expect(ids.length).toBeGreaterThan(3 * 32);
    const windows = rollingWindows(ids, tok.eot, 32);
    expect(windows.flatMap((w) => w.continuation)).toEqual(ids);
    for (const w of windows) expect(w.context.length + w.continuation.length).toBeLessThanOrEqual(33);
    const [res] = answer(model, tok, [{ kind: 'loglikelihood_rolling', text: sentences.slice(0, 8).join(' ') }]);
    if (res?.kind !== 'loglikelihood_rolling') throw new Error('kind');
    const want = windows
      .map((w) => direct([...w.context, ...w.continuation], w.continuation.length).logp.reduce((x, y) => x + y, 0))
      .reduce((x, y) => x + y, 0);
    expect(res.tokens).toBe(ids.length);
    expect(Math.abs(res.loglik - want)).toBeLessThan(1e-5);
    // and scored in batches of any size, the same
    const s1 = scoreTokens(model, windows, { batchSize: 1 });
    const s8 = scoreTokens(model, windows, { batchSize: 8 });
    const invariant = await rowInvariant();
    expectBatchInvariant(s8, s1, invariant);
    // the fast path (sums only, the training head's fused pass) gives the same sums, whatever the batch
    const f1 = scoreTokens(model, windows, { batchSize: 1, details: false });
    const f3 = scoreTokens(model, windows, { batchSize: 3, details: false });
    expectBatchInvariant(f3, f1, invariant);
    f1.forEach((f, i) => expect(Math.abs(f.loglik - s1[i]!.loglik)).toBeLessThan(1e-5));
  });
});

describe('eval harness: greedy generation', () => {
  it('continues greedily and stops at a stop string', () => {
    const [free] = answer(model, tok, [
      { kind: 'generate_until', context: 'Call me Ishmael.', until: [], maxTokens: 8 },
    ]);
    if (free?.kind !== 'generate_until') throw new Error('kind');
    expect(tok.encode(free.text).length).toBeGreaterThan(0);
    const stop = free.text.slice(1, 3);
    const [cut] = answer(model, tok, [
      { kind: 'generate_until', context: 'Call me Ishmael.', until: [stop], maxTokens: 8 },
    ]);
    if (cut?.kind !== 'generate_until') throw new Error('kind');
    expect(cut.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
  });
});
