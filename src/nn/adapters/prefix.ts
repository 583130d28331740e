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
import type { ParamSpec } from '../model/params.ts';
import { linear } from '../backend/matmul.ts';

type Lookup = (name: string) => tf.Tensor;

export interface PrefixSettings {
  numVirtualTokens: number;
  projection: boolean;
  hidden: number;
  init: 'random' | 'zero';
  /** which config field asked for it: `prefix`, or `ptuning` with version v2 */
  adapter: 'prefix' | 'ptuning';
}

/** The prefix the config asks for: `prefix`, or P-tuning v2 (deep prompts: a prefix without projection). */
export function prefixSettings(cfg: GptConfig): PrefixSettings | undefined {
  const p = cfg.prefix;
  if (p)
    return {
      numVirtualTokens: p.numVirtualTokens,
      projection: p.projection,
      hidden: p.encoderHiddenSize ?? cfg.dModel,
      init: p.init,
      adapter: 'prefix',
    };
  const v2 = cfg.ptuning?.version === 'v2' ? cfg.ptuning : undefined;
  if (v2)
    return {
      numVirtualTokens: v2.numVirtualTokens,
      projection: false,
      hidden: cfg.dModel,
      init: 'random',
      adapter: 'ptuning',
    };
  return undefined;
}

/** Prefix length in key positions (0 without a prefix). */
export const prefixLength = (cfg: GptConfig): number => prefixSettings(cfg)?.numVirtualTokens ?? 0;

const E = 'prefix_encoder.embedding.weight';
const T0 = 'prefix_encoder.transform.0';
const T2 = 'prefix_encoder.transform.2';

/** The prefix parameters, appended after the base model's (params.ts). Inits are torch's defaults, as PEFT. */
export function prefixSpecs(cfg: GptConfig): ParamSpec[] {
  const s = prefixSettings(cfg);
  if (!s) return [];
  const n = s.numVirtualTokens;
  const d = cfg.dModel;
  const out = cfg.nLayer * 2 * d;
  const adapter = s.adapter;
  const zero = s.init === 'zero';
  if (!s.projection)
    return [{ name: E, shape: [n, out], kind: 'embedding', init: zero ? 'zeros' : { normal: 1 }, adapter }];
  const u0 = 1 / Math.sqrt(d);
  const u2 = 1 / Math.sqrt(s.hidden);
  return [
    { name: E, shape: [n, d], kind: 'embedding', init: { normal: 1 }, adapter },
    { name: `${T0}.weight`, shape: [d, s.hidden], kind: 'weight', init: { uniform: u0 }, adapter },
    { name: `${T0}.bias`, shape: [s.hidden], kind: 'bias', init: { uniform: u0 }, adapter },
    { name: `${T2}.weight`, shape: [s.hidden, out], kind: 'weight', init: zero ? 'zeros' : { uniform: u2 }, adapter },
    { name: `${T2}.bias`, shape: [out], kind: 'bias', init: zero ? 'zeros' : { uniform: u2 }, adapter },
  ];
}

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
