// Sampling from the model: temperature, top-k and top-p (nucleus) over next-token logits, drawn from a
// seeded Rng so a seed reproduces a sample. Temperature 0 is greedy. No KV cache: each new token runs
// the (cropped) context whole, which is fine for the small models and short samples this serves.
import type { Rng } from '../../runtime/rng.ts';
import type { Gpt } from './gpt.ts';

export interface SampleOptions {
  /** 0: always the most likely token */
  temperature?: number;
  /** keep only the k most likely tokens (0 or undefined: all) */
  topK?: number;
  /** keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all) */
  topP?: number;
}

/** One token id drawn from `logits` under the options. */
export function sampleToken(logits: Float32Array, o: SampleOptions, rng: Rng): number {
  const t = o.temperature ?? 1;
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (t === 0) return best;
  const max = logits[best]!;
  if (!(o.topK && o.topK > 0 && o.topK < logits.length) && (o.topP === undefined || o.topP >= 1)) {
    // the whole vocabulary: no order needed, one pass of weights and one draw (sorting 50k ids per
    // token cost more than the model's forward for small models)
    const w = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) total += w[i] = Math.exp((logits[i]! - max) / t);
    let u = rng.next() * total;
    for (let i = 0; i < w.length; i++) {
      u -= w[i]!;
      if (u < 0) return i;
    }
    return best;
  }
  // candidates by descending logit; softmax over them at temperature t
  const k = o.topK && o.topK > 0 && o.topK < logits.length ? o.topK : logits.length;
  // only ids at or above the k-th largest logit need ordering (a native sort of the values finds it)
  const floor = k < logits.length ? Float32Array.from(logits).sort()[logits.length - k]! : -Infinity;
  let idx: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! >= floor) idx.push(i);
  idx.sort((a, b) => logits[b]! - logits[a]! || a - b);
  idx = idx.slice(0, k);
  const w = idx.map((i) => Math.exp((logits[i]! - max) / t));
  let total = w.reduce((a, b) => a + b, 0);
  if (o.topP !== undefined && o.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < w.length && acc < o.topP * total) acc += w[keep++]!;
    idx = idx.slice(0, Math.max(1, keep));
    w.length = idx.length;
    total = w.reduce((a, b) => a + b, 0);
  }
  let u = rng.next() * total;
  for (let k = 0; k < idx.length; k++) {
    u -= w[k]!;
    if (u < 0) return idx[k]!;
  }
  return idx[idx.length - 1]!;
}

export interface GenerateOptions extends SampleOptions {
  maxTokens: number;
  /** stop when this token is drawn (it is not included) */
  stopToken?: number;
}

/** The prompt's continuation: up to maxTokens new ids. */
export function generateTokens(model: Gpt, prompt: readonly number[], o: GenerateOptions, rng: Rng): number[] {
  if (prompt.length === 0)
    throw new Error('generate: the prompt has no tokens; give some text (or start from the end-of-text token)');
  const ctx = model.maxSeqLen(); // the context less any prefix/P-tuning virtual tokens
  const ids = [...prompt];
  const out: number[] = [];
  for (let n = 0; n < o.maxTokens; n++) {
    const window = ids.slice(-ctx);
    const logits = model.nextTokenLogits({ ids: Int32Array.from(window), batch: 1, seqLen: window.length });
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    const next = sampleToken(values, o, rng);
    if (next === o.stopToken) break;
    ids.push(next);
    out.push(next);
  }
  return out;
}
