// Position embeddings: learned (wpe.weight) or the fixed sinusoidal table, added to the token
// embeddings. Positions count from each row's start (GPT-2), or, under document masking, from each
// document's start (Megatron's reset_position_ids with reset_attention_mask): a document packed at
// offset k of a row is then seen exactly as if it were run alone, where it would start at position 0.
import * as tf from '@tensorflow/tfjs';
import type { AttentionSpans } from './attention-mask.ts';

/** Fixed sinusoidal position table (Vaswani et al.): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos. */
export function sinusoidalTable(seqLen: number, d: number): Float32Array {
  const pe = new Float32Array(seqLen * d);
  for (let p = 0; p < seqLen; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / Math.pow(10000, i / d);
      pe[p * d + i] = Math.sin(angle);
      pe[p * d + i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/** Each token's position within its document, row-major [batch * seqLen]: the query's distance from
 * the first key it may attend to (attention-mask.ts puts every span's start at its document's start). */
export function documentPositions(spans: AttentionSpans): Int32Array {
  const { batch, seqLen, lo } = spans;
  const pos = new Int32Array(batch * seqLen);
  for (let q = 0; q < pos.length; q++) pos[q] = (q % seqLen) - lo[q]!;
  return pos;
}

/**
 * The position embeddings to add to the token embeddings: [seqLen, d] (the same for every row) when
 * `positions` is undefined, else [batch * seqLen, d] gathered at those positions. Gathering the learned
 * table backpropagates by summing each token's gradient into its position's row (tf.gather's
 * gradient), as the slice does when every row uses every position once.
 */
export function positionEmbeddings(
  kind: 'learned' | 'sinusoidal',
  wpe: tf.Tensor2D | undefined,
  seqLen: number,
  d: number,
  positions?: Int32Array,
): tf.Tensor2D {
  const table = kind === 'learned' ? (wpe ?? missing()) : tf.tensor2d(sinusoidalTable(seqLen, d), [seqLen, d]);
  if (!positions) return kind === 'learned' ? tf.slice(table, [0, 0], [seqLen, d]) : table;
  return tf.gather(table, tf.tensor1d(positions, 'int32'));
}

const missing = (): never => {
  throw new Error('position embeddings: learned positions need the wpe.weight parameter');
};
