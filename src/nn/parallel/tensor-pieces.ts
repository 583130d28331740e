// The pieces a tensor-parallel rank runs between collectives (segment.ts runs each as its own forward
// and backward). A column-then-row pair (LayerNorm, c_attn, attention, c_proj without its bias; or
// LayerNorm, c_fc, activation, c_proj) gives this rank's partial sum of the sublayer's output: the
// caller all-reduces it and adds the replicated bias once. The pieces call the model's own attention,
// MLP and LayerNorm code, so a shard computes with exactly the single-device kernels.
import * as tf from '@tensorflow/tfjs';
import type { AttentionSpans } from '../model/attention-mask.ts';
import { attention, type ParamLookup } from '../model/attention.ts';
import { layerNorm } from '../model/layer-norm.ts';
import { mlp } from '../model/mlp.ts';
import { positionEmbeddings } from '../model/positions.ts';
import type { TensorShardModel } from './tensor-model.ts';

export interface Piece {
  fn: (inputs: tf.Tensor[]) => tf.Tensor;
  /** the parameters the piece's backward gives gradients for, in this order */
  names: string[];
}

export const pieceParams = (m: TensorShardModel, p: Piece): tf.Variable[] => p.names.map((n) => m.param(n));

/** This rank's rows of the token embedding for `ids`, zeros for ids another rank holds (no inputs):
 * the all-reduce of every rank's output is the full embedding. */
export function embeddingPiece(m: TensorShardModel, ids: Int32Array): Piece {
  const rows = m.param('wte.weight').shape[0]!;
  const start = m.rank * rows;
  const local = new Int32Array(ids.length);
  const mask = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const k = ids[i]! - start;
    if (k >= 0 && k < rows) {
      local[i] = k;
      mask[i] = 1;
    }
  }
  return {
    fn: () => tf.mul(tf.gather(m.param('wte.weight'), tf.tensor1d(local, 'int32')), tf.tensor2d(mask, [ids.length, 1])),
    names: ['wte.weight'],
  };
}

/** Token embeddings [batch * seqLen, d] plus the positions' (replicated). */
export function positionPiece(m: TensorShardModel, batch: number, seqLen: number): Piece {
  const cfg = m.config;
  const learned = cfg.positions === 'learned';
  return {
    fn: ([tok]) => {
      const d = cfg.dModel;
      const wpe = learned ? (m.param('wpe.weight') as tf.Tensor2D) : undefined;
      const pos = positionEmbeddings(cfg.positions, wpe, seqLen, d);
      return tf.add(tok!.reshape([batch, seqLen, d]), pos).reshape([batch * seqLen, d]);
    },
    names: learned ? ['wpe.weight'] : [],
  };
}

/** The shard's parameters, with a zero bias for the row-parallel c_proj (added after the all-reduce). */
function shardLookup(m: TensorShardModel): ParamLookup {
  return (name: string) => (name.endsWith('.c_proj.bias') ? tf.zeros([m.config.dModel]) : m.param(name));
}

const norm = (m: TensorShardModel, x: tf.Tensor, name: string) =>
  layerNorm(
    x as tf.Tensor2D,
    m.param(`${name}.weight`) as tf.Tensor1D,
    m.param(`${name}.bias`) as tf.Tensor1D,
    m.config.layerNormEps,
    m.js,
  );

/** ln_1, then this rank's heads and its rows of c_proj: a partial sum of the attention output.
 * The LayerNorm's parameters come first in `names` (their gradients are partial sums too). */
export function attentionPiece(m: TensorShardModel, layer: number, spans: AttentionSpans): Piece {
  const h = `h.${layer}`;
  const heads = m.config.nHead / m.tp;
  return {
    fn: ([x]) => attention(norm(m, x!, `${h}.ln_1`), shardLookup(m), `${h}.attn`, spans, heads, m.js),
    names: [
      `${h}.ln_1.weight`,
      `${h}.ln_1.bias`,
      `${h}.attn.c_attn.weight`,
      `${h}.attn.c_attn.bias`,
      `${h}.attn.c_proj.weight`,
    ],
  };
}

/** ln_2, then this rank's columns of c_fc (and c_gate) and rows of c_proj: a partial sum of the MLP. */
export function mlpPiece(m: TensorShardModel, layer: number): Piece {
  const h = `h.${layer}`;
  const cfg = m.config;
  const gate = cfg.activation === 'swiglu' ? [`${h}.mlp.c_gate.weight`, `${h}.mlp.c_gate.bias`] : [];
  return {
    fn: ([x]) => mlp(norm(m, x!, `${h}.ln_2`), shardLookup(m), `${h}.mlp`, cfg.activation, m.js),
    names: [
      `${h}.ln_2.weight`,
      `${h}.ln_2.bias`,
      `${h}.mlp.c_fc.weight`,
      `${h}.mlp.c_fc.bias`,
      ...gate,
      `${h}.mlp.c_proj.weight`,
    ],
  };
}

/** The final LayerNorm (replicated): the hidden states the head scores. */
export function finalNormPiece(m: TensorShardModel): Piece {
  return { fn: ([x]) => norm(m, x!, 'ln_f'), names: ['ln_f.weight', 'ln_f.bias'] };
}
