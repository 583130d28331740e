// Answers evaluation requests with a GPT and a tokenizer, as lm-evaluation-harness answers them for a
// decoder-only model, so its task numbers carry over:
// - loglikelihood(context, continuation): trailing whitespace of the context moves to the continuation;
//   the continuation's tokens are those of encode(context + continuation) after encode(context), so a
//   word is tokenized as it is in running text. BOS/EOS: no token is put before a non-empty context
//   (GPT-2 convention; flowlm's training data ends each document with <|endoftext|>, so the model has
//   seen text start after it); an empty context is <|endoftext|> alone.
// - loglikelihood_rolling(text): the text's tokens in disjoint windows of the model's context
//   (loglik.ts rollingWindows), the first predicted from <|endoftext|>; the sum over every token.
// - generate_until: greedy decoding, cut at the first stop string or after maxTokens tokens.
import type { Gpt } from '../nn/model/gpt.ts';
import { rollingWindows, scoreTokens, type TokenRequest } from '../nn/eval/loglik.ts';
import type { EvalRequest, EvalResult } from './task.ts';

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** <|endoftext|>: the prefix of rolling windows and empty contexts, and a stop token */
  eot: number;
}

export interface HarnessOptions {
  /** requests per forward pass; results do not depend on it */
  batchSize?: number;
}

/** lm-evaluation-harness's _encode_pair. */
export function encodePair(tok: Tokenizer, context: string, continuation: string): TokenRequest {
  if (context === '') return { context: [tok.eot], continuation: tok.encode(continuation) };
  const trimmed = context.replace(/\s+$/u, '');
  const moved = context.slice(trimmed.length);
  const whole = tok.encode(trimmed + moved + continuation);
  const ctx = tok.encode(trimmed);
  // where a BPE merge crosses the boundary the whole's first tokens differ from the context's; the
  // continuation is still what follows the context's length, as the reference takes it
  return { context: ctx, continuation: whole.slice(ctx.length) };
}

/** Greedy continuation of `context` until a stop string or maxTokens (no KV cache: each token runs the
 * cropped context whole). */
export function generateUntil(
  model: Gpt,
  tok: Tokenizer,
  context: string,
  until: readonly string[],
  maxTokens: number,
): string {
  const L = model.config.contextLength;
  const ids = context === '' ? [tok.eot] : tok.encode(context);
  const out: number[] = [];
  for (let n = 0; n < maxTokens; n++) {
    const window = ids.slice(-L);
    const logits = model.nextTokenLogits({ ids: Int32Array.from(window), batch: 1, seqLen: window.length });
    const v = logits.dataSync() as Float32Array;
    logits.dispose();
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
    if (best === tok.eot) break;
    ids.push(best);
    out.push(best);
    const text = tok.decode(out);
    const cut = firstStop(text, until);
    if (cut >= 0) return text.slice(0, cut);
  }
  return tok.decode(out);
}

function firstStop(text: string, until: readonly string[]): number {
  let cut = -1;
  for (const u of until) {
    if (u === '') continue;
    const i = text.indexOf(u);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}

/** The result of every request, in order. Log-likelihood requests are scored together in batches, and
 * so are the windows of rolling requests; generation runs one request at a time. */
export function answer(
  model: Gpt,
  tok: Tokenizer,
  requests: readonly EvalRequest[],
  o: HarnessOptions = {},
): EvalResult[] {
  const L = model.config.contextLength;
  // log-likelihood requests need greedy flags and confidences; rolling windows only their sums
  const pairs: TokenRequest[] = [];
  const windows: TokenRequest[] = [];
  const spans: { first: number; count: number }[] = [];
  for (const r of requests) {
    if (r.kind === 'loglikelihood') {
      spans.push({ first: pairs.length, count: 1 });
      pairs.push(encodePair(tok, r.context, r.continuation));
    } else if (r.kind === 'loglikelihood_rolling') {
      const w = rollingWindows(tok.encode(r.text), tok.eot, L);
      spans.push({ first: windows.length, count: w.length });
      windows.push(...w);
    } else spans.push({ first: 0, count: 0 });
  }
  const pairScores = scoreTokens(model, pairs, { batchSize: o.batchSize });
  const windowScores = scoreTokens(model, windows, { batchSize: o.batchSize, details: false });
  return requests.map((r, i): EvalResult => {
    const { first, count } = spans[i]!;
    if (r.kind === 'loglikelihood') {
      const s = pairScores[first]!;
      return {
        kind: 'loglikelihood',
        loglik: s.loglik,
        greedy: s.greedy!,
        tokens: s.tokens,
        confidence: s.confidence,
        correct: s.correct,
      };
    }
    if (r.kind === 'loglikelihood_rolling') {
      let loglik = 0;
      let tokens = 0;
      for (let k = first; k < first + count; k++) {
        loglik += windowScores[k]!.loglik;
        tokens += windowScores[k]!.tokens;
      }
      return { kind: 'loglikelihood_rolling', loglik, tokens };
    }
    return { kind: 'generate_until', text: generateUntil(model, tok, r.context, r.until, r.maxTokens) };
  });
}
