// Which keys each query may attend to. Causal attention and document masking both leave every query
// a contiguous run of keys, so the mask is two numbers per query: the first and last allowed key.
import * as tf from '@tensorflow/tfjs';

export interface AttentionSpans {
  batch: number;
  seqLen: number;
  /** per query (row-major [batch, seqLen]): first and last key position it may attend to */
  lo: Int32Array;
  hi: Int32Array;
}

/**
 * `docStarts[b]` lists the positions in row b where a new document begins (position 0 always starts
 * one); with them a query sees only keys of its own document. Positions >= seqLen are ignored.
 */
export function attentionSpans(
  batch: number,
  seqLen: number,
  causal: boolean,
  docStarts?: ArrayLike<ArrayLike<number>>,
): AttentionSpans {
  const lo = new Int32Array(batch * seqLen);
  const hi = new Int32Array(batch * seqLen);
  if (docStarts && docStarts.length !== batch) {
    throw new Error(
      `attention mask: doc_starts has ${docStarts.length} rows but the batch has ${batch}; give one list per row`,
    );
  }
  for (let b = 0; b < batch; b++) {
    const starts = docStarts
      ? Array.from(docStarts[b]!)
          .filter((s) => s > 0 && s < seqLen)
          .sort((x, y) => x - y)
      : [];
    let segStart = 0;
    let k = 0;
    for (let i = 0; i < seqLen; i++) {
      while (k < starts.length && starts[k]! <= i) segStart = starts[k++]!;
      const segEnd = k < starts.length ? starts[k]! - 1 : seqLen - 1;
      lo[b * seqLen + i] = segStart;
      hi[b * seqLen + i] = causal ? i : segEnd;
    }
  }
  return { batch, seqLen, lo, hi };
}

/** The spans as an additive bias [batch, 1, seqLen, seqLen]: 0 where allowed, -1e9 elsewhere. */
export function spanBias(s: AttentionSpans): tf.Tensor4D {
  const { batch, seqLen: t } = s;
  const bias = new Float32Array(batch * t * t).fill(-1e9);
  for (let q = 0; q < batch * t; q++) {
    for (let j = s.lo[q]!; j <= s.hi[q]!; j++) bias[q * t + j] = 0;
  }
  return tf.tensor4d(bias, [batch, 1, t, t]);
}
