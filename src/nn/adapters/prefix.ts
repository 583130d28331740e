// Prefix tuning (PEFT's PrefixEncoder and get_prompt): per layer, numVirtualTokens key and value vectors
// per head that every query attends to before the real tokens, as Hugging Face GPT-2 sees PEFT's
// past_key_values. The flat prefix row [nLayer*2*dModel] of each virtual token is laid out
// [layer, key|value, head, headDim], PEFT's view(n, layers*2, heads, headDim) then permute. The real
// tokens take positions numVirtualTokens.. (GPT-2 counts positions on from the past's length). The
// same prefix serves every row of a batch, so its gradient is the sum over rows. Parameters use the
// GPT's Conv1D layout [in, out]: PEFT's torch Linear weights are their transposes.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../runtime/rng.ts';
import type { AttentionSpans } from '../model/attention-mask.ts';
import type { GptConfig } from '../model/config.ts';
import { linear } from '../backend/matmul.ts';
import { E, prefixSettings, T0, T2 } from './prefix-specs.ts';

// gpt.ts and others take these from here, beside the forward pass
export { prefixLength, prefixSettings, type PrefixSettings } from './prefix-specs.ts';

type Lookup = (name: string) => tf.Tensor;

/** Each layer's prefix keys and values, [nHead, numVirtualTokens, headDim] each (shared by all rows). */
export interface PastKV {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/** The prefixes of every layer, computed once per forward pass (through the MLP with projection). */
export function prefixKeyValues(cfg: GptConfig, p: Lookup): PastKV[] {
  const s = prefixSettings(cfg);
  if (!s) return [];
  const n = s.numVirtualTokens;
  const hd = cfg.dModel / cfg.nHead;
  let flat = p(E) as tf.Tensor2D;
  if (s.projection) {
    const h = tf.tanh(linear(flat, p(`${T0}.weight`) as tf.Tensor2D, p(`${T0}.bias`) as tf.Tensor1D));
    flat = linear(h, p(`${T2}.weight`) as tf.Tensor2D, p(`${T2}.bias`) as tf.Tensor1D);
  }
  // [n, layers*2, heads, hd] -> [layers*2, heads, n, hd]: entry 2l is layer l's keys, 2l+1 its values
  const kv = flat.reshape([n, cfg.nLayer * 2, cfg.nHead, hd]).transpose([1, 2, 0, 3]);
  const parts = tf.unstack(kv) as tf.Tensor3D[];
  return Array.from({ length: cfg.nLayer }, (_, l) => ({ k: parts[2 * l]!, v: parts[2 * l + 1]! }));
}

/**
 * Attention with the prefix keys and values in front of the row's own: qkv [batch*seqLen, 3d] ->
 * [batch*seqLen, d]. Every query sees all prefix positions, then the keys its span allows (causal,
 * or its document under document masking). Plain tf ops (autograd), on every backend.
 */
export function prefixAttention(
  qkv: tf.Tensor2D,
  spans: AttentionSpans,
  nHead: number,
  past: PastKV,
  keep?: Float32Array,
): tf.Tensor2D {
  const { batch, seqLen: t } = spans;
  const d = qkv.shape[1] / 3;
  const hd = d / nHead;
  const n = past.k.shape[1];
  return tf.tidy(() => {
    const heads = (x: tf.Tensor) => x.reshape([batch, t, nHead, hd]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
    const [q, k, v] = tf.split(qkv, 3, 1).map(heads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const rows = (x: tf.Tensor3D) => tf.tile(x.expandDims(0), [batch, 1, 1, 1]);
    const keys = tf.concat([rows(past.k), k], 2);
    const values = tf.concat([rows(past.v), v], 2);
    const scores = tf.add(tf.mul(tf.matMul(q, keys, false, true), 1 / Math.sqrt(hd)), prefixBias(spans, n));
    const probs = tf.softmax(scores);
    const dropped = keep ? tf.mul(probs, tf.tensor4d(keep, [batch, nHead, t, n + t])) : probs;
    return tf
      .matMul(dropped, values)
      .transpose([0, 2, 1, 3])
      .reshape([batch * t, d]) as tf.Tensor2D;
  });
}

/** Additive bias [batch, 1, seqLen, n + seqLen]: 0 on the n prefix keys and the span's keys, -1e9 elsewhere. */
function prefixBias(s: AttentionSpans, n: number): tf.Tensor4D {
  const { batch, seqLen: t } = s;
  const w = n + t;
  const bias = new Float32Array(batch * t * w).fill(-1e9);
  for (let q = 0; q < batch * t; q++) {
    bias.fill(0, q * w, q * w + n);
    bias.fill(0, q * w + n + s.lo[q]!, q * w + n + s.hi[q]! + 1);
  }
  return tf.tensor4d(bias, [batch, 1, t, w]);
}

/** Attention dropout factors [batch, nHead, seqLen, n + seqLen] (attention-dropout.ts's rule): one draw
 * per allowed (row, head, query, key), prefix keys first. */
export function prefixDropMask(spans: AttentionSpans, nHead: number, n: number, rate: number, rng: Rng): Float32Array {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`attention dropout: rate must be in (0, 1), got ${rate}`);
  const { batch, seqLen: t, lo, hi } = spans;
  const w = n + t;
  const scale = 1 / (1 - rate);
  const threshold = rate * 0x1_0000_0000;
  const mask = new Float32Array(batch * nHead * t * w);
  const draw = (i: number) => (mask[i] = rng.nextU32() >= threshold ? scale : 0);
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < nHead; h++)
      for (let i = 0; i < t; i++) {
        const o = ((b * nHead + h) * t + i) * w;
        for (let j = 0; j < n; j++) draw(o + j);
        for (let j = lo[b * t + i]!; j <= hi[b * t + i]!; j++) draw(o + n + j);
      }
  return mask;
}
