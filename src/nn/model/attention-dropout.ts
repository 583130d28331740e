// Dropout on the attention probabilities (GPT-2's attn_dropout): each probability a query gives a key
// is zeroed with probability `rate` and the rest scaled by 1 / (1 - rate), after the softmax, so a
// query's weights sum to 1 in expectation. The mask is drawn from the model's seeded generator (never
// tfjs's global one), so a resumed run draws the same masks, and both kernel paths of
// attention-core.ts apply the same one.
import type { Rng } from '../../runtime/rng.ts';
import type { AttentionSpans } from './attention-mask.ts';

export interface AttentionDrop {
  rate: number;
  rng: Rng;
}

/**
 * The factor each probability is multiplied by, laid out [batch, nHead, seqLen, seqLen] like the
 * probabilities: 0 (dropped) or 1 / (1 - rate) for the keys a query may attend to, 0 elsewhere (their
 * probability is 0 anyway). Draws one 32-bit number per allowed (sequence, head, query, key), in
 * that order, so the mask depends on the spans and the generator alone.
 */
export function attentionDropMask(spans: AttentionSpans, nHead: number, rate: number, rng: Rng): Float32Array {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`attention dropout: rate must be in (0, 1), got ${rate}`);
  const { batch, seqLen: t, lo, hi } = spans;
  const keep = 1 / (1 - rate);
  const threshold = rate * 0x1_0000_0000;
  const mask = new Float32Array(batch * nHead * t * t);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < nHead; h++) {
      const base = (b * nHead + h) * t * t;
      for (let i = 0; i < t; i++) {
        const o = base + i * t;
        for (let j = lo[b * t + i]!; j <= hi[b * t + i]!; j++) mask[o + j] = rng.nextU32() >= threshold ? keep : 0;
      }
    }
  }
  return mask;
}
