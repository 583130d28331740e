// Log-likelihood of token continuations under the GPT, the harness's one kernel. A request is context +
// continuation ids; the model reads (context + continuation)[-(L+1):][:-1] (L: its context length, as
// lm-evaluation-harness cuts long inputs from the left) and the last |continuation| positions predict
// the continuation. Requests run in batches padded on the right: attention is causal, so padding after a
// row's last token cannot change its scores, and every row's numbers are computed by the same per-row
// operations whatever else is in the batch (test/eval/harness.test.ts checks batch sizes 1, 3 and 8
// give identical scores). Only the scored positions go through the output head (head-scores.ts): that
// is where most of a forward pass's time goes at GPT-2's vocabulary.
import * as tf from '@tensorflow/tfjs';
import type { Gpt } from '../model/gpt.ts';
import { headRowLosses } from '../head/head-loss.ts';
import { HeadBlocks, headScores, type HeadScores } from './head-scores.ts';

export interface TokenRequest {
  /** at least one token (an empty context is the end-of-text token: harness.ts) */
  context: readonly number[];
  continuation: readonly number[];
}

export interface TokenScore {
  /** sum over the continuation of log p(token | everything before it), natural log */
  loglik: number;
  tokens: number;
  /** with `details`: every continuation token was the model's most likely next token */
  greedy?: boolean;
  /** with `details`, per continuation token: the probability of the model's most likely token, and
   * whether it was right */
  confidence?: Float64Array;
  correct?: Uint8Array;
}

export interface ScoreOptions {
  /** requests per forward pass (default 8); the numbers do not depend on it */
  batchSize?: number;
  /** greedy flags and per-token confidence (default true). Without them the scored rows go through the
   * training head's fused pass (head-loss.ts headRowLosses: the helper thread shares it), the fast path
   * for rolling log-likelihood where every position is scored. */
  details?: boolean;
}

/** The model's input row and how many of its last positions are scored. */
function inputOf(r: TokenRequest, L: number, i: number): { ids: number[]; scored: number } {
  if (r.continuation.length === 0) throw new Error(`loglikelihood: request ${i} has an empty continuation`);
  if (r.context.length === 0)
    throw new Error(`loglikelihood: request ${i} has an empty context (start it with the end-of-text token)`);
  if (r.continuation.length > L)
    throw new Error(
      `loglikelihood: request ${i}'s continuation has ${r.continuation.length} tokens, more than the model's ` +
        `context ${L}; score long texts with loglikelihood_rolling`,
    );
  const full = [...r.context, ...r.continuation];
  return { ids: full.slice(-(L + 1), -1), scored: r.continuation.length };
}

/** Scores of every request, in the order given. */
export function scoreTokens(model: Gpt, requests: readonly TokenRequest[], o: ScoreOptions = {}): TokenScore[] {
  const batchSize = o.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`loglikelihood: batchSize ${batchSize} < 1`);
  const L = model.config.contextLength;
  const inputs = requests.map((r, i) => inputOf(r, L, i));
  // longest first (as lm-evaluation-harness orders them): rows of a batch have similar lengths, less padding
  const order = inputs.map((_, i) => i).sort((a, b) => inputs[b]!.ids.length - inputs[a]!.ids.length || a - b);
  const out = new Array<TokenScore>(requests.length);
  const head = o.details === false ? undefined : new HeadBlocks(model.headMatrix());
  try {
    for (let s = 0; s < order.length; s += batchSize) {
      const part = order.slice(s, s + batchSize);
      const scores = scoreBatch(
        model,
        head,
        part.map((i) => inputs[i]!),
        part.map((i) => requests[i]!.continuation),
      );
      part.forEach((i, k) => {
        out[i] = scores[k]!;
      });
    }
  } finally {
    head?.dispose();
  }
  return out;
}

function scoreBatch(
  model: Gpt,
  head: HeadBlocks | undefined,
  rows: readonly { ids: number[]; scored: number }[],
  targets: readonly (readonly number[])[],
): TokenScore[] {
  const T = Math.max(...rows.map((r) => r.ids.length));
  const B = rows.length;
  const ids = new Int32Array(B * T); // padding: token 0, after each row's end
  const picks: number[] = []; // flat positions whose next token is scored
  const want: number[] = []; // that next token
  rows.forEach((r, b) => {
    ids.set(r.ids, b * T);
    const first = r.ids.length - r.scored;
    for (let k = 0; k < r.scored; k++) {
      picks.push(b * T + first + k);
      want.push(targets[b]![k]!);
    }
  });
  const h = tf.tidy(() => tf.gather(model.hidden({ ids, batch: B, seqLen: T }), tf.tensor1d(picks, 'int32')));
  let sc: HeadScores | undefined;
  let losses: Float64Array | undefined;
  try {
    if (head) sc = headScores(h as tf.Tensor2D, head, Int32Array.from(want));
    else losses = headRowLosses(h as tf.Tensor2D, model.headMatrix(), Int32Array.from(want));
  } finally {
    h.dispose();
  }
  let k = 0;
  return rows.map((r): TokenScore => {
    let loglik = 0;
    if (!sc) {
      for (let j = 0; j < r.scored; j++, k++) loglik -= losses![k]!;
      return { loglik, tokens: r.scored };
    }
    const confidence = new Float64Array(r.scored);
    const correct = new Uint8Array(r.scored);
    let greedy = true;
    for (let j = 0; j < r.scored; j++, k++) {
      loglik += sc.logp[k]!;
      const right = sc.best[k] === want[k];
      correct[j] = right ? 1 : 0;
      if (!right) greedy = false;
      confidence[j] = Math.exp(sc.bestLogp[k]!);
    }
    return { loglik, greedy, tokens: r.scored, confidence, correct };
  });
}

/** lm-evaluation-harness's rolling windows for a text longer than the context: the first window
 * predicts the first min(L, n) tokens from the prefix token; each later window predicts the next up to
 * L tokens with as much preceding text as fits. Every token is predicted exactly once. */
export function rollingWindows(tokens: readonly number[], prefix: number, L: number): TokenRequest[] {
  const out: TokenRequest[] = [];
  if (tokens.length === 0) return out;
  const first = Math.min(L, tokens.length);
  out.push({ context: [prefix], continuation: tokens.slice(0, first) });
  let predicted = first;
  while (predicted < tokens.length) {
    const n = Math.min(tokens.length - predicted, L);
    const end = predicted + n;
    // the window's input is tokens[end-L-1 .. end-1); its first (L+1-n) tokens are context
    const start = Math.max(0, end - L - 1);
    out.push({ context: tokens.slice(start, predicted), continuation: tokens.slice(predicted, end) });
    predicted = end;
  }
  return out;
}
