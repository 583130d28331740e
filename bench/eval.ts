// Scoring throughput of the eval harness against the training forward pass, in the same run: the
// `tiny` GPT (GPT-2 vocabulary, context 128, 4 layers, d 128, random weights) scores held-out text
// (the heldout-perplexity task's documents) as rolling windows (every token scored, src/nn/eval/loglik.ts),
// and the validation forward (autoregressiveLossValue: the training forward without gradients, fused
// head + cross-entropy) runs over exactly the same windows as packed rows. Rounds alternate the two;
// figures are medians. `ratio` = harness tokens/s over forward tokens/s (target >= 0.8).
// Also: multiple-choice-like requests (long context, 2-token continuations: only the scored positions
// go through the head), as input tokens/s; and every position scored with greedy flags and per-token
// confidences (the path of log-likelihood requests, one thread), as tokens/s.
// Args: windows=16 rounds=5 batch=8 config=tiny
import { loadavg } from 'node:os';
import { initBackend } from '../src/nn/backend/backend.ts';
import { rollingWindows, scoreTokens, type TokenRequest } from '../src/nn/eval/loglik.ts';
import { GPT_PRESETS } from '../src/nn/model/config.ts';
import { Gpt } from '../src/nn/model/gpt.ts';
import { autoregressiveLossValue, type PackedBatch } from '../src/nn/objective/loss.ts';
import { tokenizerFor } from '../src/eval/tokenizer.ts';
import { heldoutDocs } from '../operators/eval/tasks/heldout.ts';
import { median } from './_median.ts';

const arg = (args: string[], name: string, dflt: number) => {
  const v = Number(args.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench eval: ${name} must be an integer >= 1`);
  return v;
};

export default async function bench(args: string[]): Promise<Record<string, unknown>> {
  const windows = arg(args, 'windows', 16);
  const rounds = arg(args, 'rounds', 5);
  const batch = arg(args, 'batch', 8);
  const backend = await initBackend({ announce: (l) => console.error(l) });
  const cfg = GPT_PRESETS.tiny;
  const L = cfg.contextLength;
  const model = Gpt.create({ ...cfg, dropout: 0 }, { seed: 1 });
  const tok = tokenizerFor('gpt2');

  // full windows of L scored tokens from held-out text (the first window of each document is skipped:
  // it has fewer than L tokens of input)
  const reqs: TokenRequest[] = [];
  for (const d of heldoutDocs()) {
    for (const w of rollingWindows(tok.encode(d.text), tok.eot, L).slice(1))
      if (w.continuation.length === L && reqs.length < windows) reqs.push(w);
    if (reqs.length >= windows) break;
  }
  const tokens = reqs.length * L;
  // the same tokens as packed rows of L + 1: input and next-token targets
  const rows: PackedBatch[] = [];
  for (let i = 0; i < reqs.length; i += batch) {
    const part = reqs.slice(i, i + batch);
    const ids = new Int32Array(part.length * (L + 1));
    part.forEach((r, b) => ids.set([...r.context, ...r.continuation].slice(-(L + 1)), b * (L + 1)));
    rows.push({ inputIds: ids, batch: part.length, seqLen: L });
  }
  // multiple choice: L - 2 tokens of context, 2 of continuation
  const mc: TokenRequest[] = reqs.map((r) => {
    const all = [...r.context, ...r.continuation].slice(-(L + 1));
    return { context: all.slice(0, L - 1), continuation: all.slice(L - 1, L + 1) };
  });

  const harness: number[] = [];
  const forward: number[] = [];
  const choice: number[] = [];
  const detailed: number[] = [];
  let check = 0;
  for (let r = 0; r <= rounds; r++) {
    let t0 = performance.now();
    const s = scoreTokens(model, reqs, { batchSize: batch, details: false });
    const th = performance.now() - t0;
    t0 = performance.now();
    let nll = 0;
    for (const b of rows) nll += autoregressiveLossValue(model, b) * b.batch * L;
    const tf = performance.now() - t0;
    t0 = performance.now();
    scoreTokens(model, mc, { batchSize: batch });
    const tm = performance.now() - t0;
    t0 = performance.now();
    scoreTokens(model, reqs, { batchSize: batch });
    const td = performance.now() - t0;
    if (r === 0) {
      // warm-up round; both compute the same total log-likelihood
      check = Math.abs(s.reduce((a, x) => a + x.loglik, 0) + nll) / nll;
      continue;
    }
    harness.push(tokens / (th / 1000));
    forward.push(tokens / (tf / 1000));
    choice.push(tokens / (tm / 1000));
    detailed.push(tokens / (td / 1000));
  }
  model.dispose();
  const h = median(harness);
  const f = median(forward);
  const out = {
    bench: 'eval',
    backend: backend.name,
    config: 'tiny',
    tokens_per_round: tokens,
    rounds,
    harness_tokens_per_s: Math.round(h),
    forward_tokens_per_s: Math.round(f),
    ratio: Number((h / f).toFixed(3)),
    ratios: harness.map((x, i) => Number((x / forward[i]!).toFixed(3))),
    mc_input_tokens_per_s: Math.round(median(choice)),
    // every position with greedy flags and confidences (vocabulary blocks on one thread)
    detailed_tokens_per_s: Math.round(median(detailed)),
    loglik_rel_diff: Number(check.toExponential(2)),
    load: loadavg()[0],
  };
  console.error(
    `harness ${out.harness_tokens_per_s} tok/s, forward ${out.forward_tokens_per_s} tok/s: ratio ${out.ratio}; multiple choice ${out.mc_input_tokens_per_s} input tok/s`,
  );
  return out;
}
