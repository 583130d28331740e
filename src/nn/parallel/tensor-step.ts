// One tensor-parallel training step (Megatron-LM): forward and backward piece by piece (segment.ts),
// with the conjugate operators between pieces: after a row-parallel product the forward all-reduces the
// partial sums ("g"); before a column-parallel product the backward all-reduces the partial input
// gradients ("f"). The loss is the single-device loss and each shard's gradient the slice of the
// single-device gradient. With data parallelism each DP group averages the shard gradients (the ranks
// holding the same shard of different micro-batches), then clipping by the global norm (sharded
// gradients summed over the TP group, replicated ones counted once) and AdamW on the shard.
// Dropout is not supported (tensor-shard.ts checks): the tests and this step run without it.
import * as tf from '@tensorflow/tfjs';
import type { Collective } from '../../runtime/collectives/collective.ts';
import { sumRows } from '../backend/matmul.ts';
import { attentionSpans } from '../model/attention-mask.ts';
import type { Gpt } from '../model/gpt.ts';
import { inputsOf, nextTokenTargets, type PackedBatch } from '../objective/loss.ts';
import type { AdamW } from '../optim/adamw.ts';
import type { Grads, StepResult } from '../train/train-step.ts';
import { segmentBackward, segmentForward } from './segment.ts';
import type { TensorShardModel } from './tensor-model.ts';
import {
  attentionPiece,
  embeddingPiece,
  finalNormPiece,
  mlpPiece,
  pieceParams,
  positionPiece,
  type Piece,
} from './tensor-pieces.ts';
import { vocabParallelCrossEntropy } from './tensor-vocab.ts';

/** The tensor, summed over the group, as a new tensor; the input is disposed. */
async function allReduced(t: tf.Tensor, c: Collective): Promise<tf.Tensor> {
  const v = Float32Array.from(t.dataSync() as Float32Array);
  const shape = t.shape;
  t.dispose();
  await c.allReduce(v, 'sum');
  return tf.tensor(v, shape, 'float32');
}

/** Sums gradients by name (a parameter the embedding and the tied head both reach gets both). */
function addGrad(grads: Map<string, tf.Tensor>, name: string, g: tf.Tensor): void {
  const prev = grads.get(name);
  if (!prev) return void grads.set(name, g);
  grads.set(name, tf.add(prev, g));
  tf.dispose([prev, g]);
}

/** Loss and this shard's gradients (by name, `m.specs` order) of one micro-batch, the ranks of the
 * TP group `tp` running it together. Leaves no tensors behind. */
export async function tensorParallelGrads(m: TensorShardModel, b: PackedBatch, tp: Collective): Promise<Grads> {
  if (tp.worldSize !== m.tp || tp.rank !== m.rank)
    throw new Error(
      `tensorParallelGrads: the shard is rank ${m.rank} of ${m.tp}, the TP collective rank ${tp.rank} of ${tp.worldSize}`,
    );
  const { ids, batch, seqLen } = inputsOf(b);
  const { targets, weights } = nextTokenTargets(b);
  const spans = attentionSpans(batch, seqLen, m.config.causal);
  const grads = new Map<string, tf.Tensor>();
  const live: tf.Tensor[] = [];
  try {
    // forward: the embedding's rows are spread over the ranks, so its partial sums are all-reduced
    const emb = embeddingPiece(m, ids);
    const tok = await allReduced(segmentForward(emb.fn, []), tp);
    live.push(tok);
    const pos = positionPiece(m, batch, seqLen);
    let x = segmentForward(pos.fn, [tok]);
    live.push(x);
    const sublayers: { piece: Piece; input: tf.Tensor; bias: string }[] = [];
    for (let l = 0; l < m.config.nLayer; l++) {
      for (const [piece, bias] of [
        [attentionPiece(m, l, spans), `h.${l}.attn.c_proj.bias`],
        [mlpPiece(m, l), `h.${l}.mlp.c_proj.bias`],
      ] as const) {
        const y = await allReduced(segmentForward(piece.fn, [x]), tp);
        const input = x;
        x = tf.tidy(() => tf.add(input, tf.add(y, m.param(bias))));
        y.dispose();
        live.push(x);
        sublayers.push({ piece, input, bias });
      }
    }
    const fin = finalNormPiece(m);
    const h = segmentForward(fin.fn, [x]) as tf.Tensor2D;
    live.push(h);
    const headName = m.config.tiedHead ? 'wte.weight' : 'lm_head.weight';
    const head = await vocabParallelCrossEntropy(
      h,
      m.headMatrix() as tf.Tensor2D,
      { targets, weights, vocabSize: m.config.vocabSize },
      tp,
    );
    addGrad(grads, headName, head.dw);
    live.push(head.dh);

    // backward: the residual stream's gradient is the same on every rank
    const gf = segmentBackward(fin.fn, [x], pieceParams(m, fin), head.dh);
    fin.names.forEach((n, i) => addGrad(grads, n, gf.params[i]!));
    let dx = gf.inputs[0]!;
    for (const s of sublayers.reverse()) {
      addGrad(grads, s.bias, sumRows(dx as tf.Tensor2D));
      const g = segmentBackward(s.piece.fn, [s.input], pieceParams(m, s.piece), dx);
      // the input's and the LayerNorm's gradients are partial sums (each rank's heads or columns): one all-reduce
      const parts = [g.inputs[0]!, g.params[0]!, g.params[1]!];
      const flat = await allReduced(
        tf.tidy(() => tf.concat(parts.map((t) => t.reshape([-1])))),
        tp,
      );
      const [dPart, dw, db] = tf.split(
        flat,
        parts.map((t) => t.size),
      );
      addGrad(grads, s.piece.names[0]!, dw!.reshape(parts[1]!.shape));
      addGrad(grads, s.piece.names[1]!, db!.reshape(parts[2]!.shape));
      s.piece.names.slice(2).forEach((n, i) => addGrad(grads, n, g.params[i + 2]!));
      const next = tf.tidy(() => tf.add(dx, dPart!.reshape(dx.shape)));
      tf.dispose([dx, flat, dPart!, dw!, db!, ...parts]);
      dx = next;
    }
    const gp = segmentBackward(pos.fn, [tok], pieceParams(m, pos), dx);
    pos.names.forEach((n, i) => addGrad(grads, n, gp.params[i]!));
    const ge = segmentBackward(emb.fn, [], pieceParams(m, emb), gp.inputs[0]!);
    addGrad(grads, 'wte.weight', ge.params[0]!);
    tf.dispose([dx, ...gp.inputs]);

    const out = new Map<string, Float32Array>();
    for (const s of m.specs) {
      const g = grads.get(s.name);
      if (!g) throw new Error(`tensorParallelGrads: no gradient reached ${s.name}`);
      out.set(s.name, Float32Array.from(g.dataSync() as Float32Array));
    }
    return { loss: head.loss, grads: out };
  } finally {
    tf.dispose([...live, ...grads.values()]);
  }
}

/** The global gradient norm of the whole model: the sharded gradients' squares summed over the TP
 * group, the replicated ones (the same on every rank) counted once. */
export async function tensorGlobalNorm(
  m: TensorShardModel,
  grads: Map<string, Float32Array>,
  tp: Collective,
): Promise<number> {
  let sharded = 0;
  let replicated = 0;
  for (const s of m.specs) {
    const g = grads.get(s.name)!;
    let q = 0;
    for (let i = 0; i < g.length; i++) q += g[i]! * g[i]!;
    if (s.layout === 'replicated') replicated += q;
    else sharded += q;
  }
  const sum = new Float32Array([sharded]);
  await tp.allReduce(sum, 'sum');
  return Math.sqrt(sum[0]! + replicated);
}

export interface TensorStepOptions {
  lr: number;
  /** clip the global gradient norm to this; 0 or undefined: no clipping */
  clipNorm?: number;
  /** the ranks holding the other shards of this micro-batch's model (rank = this shard's rank) */
  tp: Collective;
  /** the ranks holding this same shard for other micro-batches: their gradients are averaged */
  dp?: Collective;
}

/** Forward, backward, DP average, clip and AdamW on the shard: one optimizer step of the whole
 * model. `opt` is an AdamW over `m.specs`. Every rank of the grid calls it with its own micro-batch,
 * or its micro-batches (gradient accumulation: summed in order and scaled by 1/k, as train-step.ts
 * does), the same across a TP group. */
export async function tensorParallelStep(
  m: TensorShardModel,
  opt: AdamW,
  batches: PackedBatch | readonly PackedBatch[],
  o: TensorStepOptions,
): Promise<StepResult> {
  const micro = Array.isArray(batches) ? batches : [batches as PackedBatch];
  if (micro.length === 0) throw new Error('tensorParallelStep: no micro-batches');
  let { loss, grads } = await tensorParallelGrads(m, micro[0]!, o.tp);
  for (const b of micro.slice(1)) {
    const g = await tensorParallelGrads(m, b, o.tp);
    loss += g.loss;
    for (const [name, v] of g.grads) {
      const acc = grads.get(name)!;
      for (let i = 0; i < v.length; i++) acc[i]! += v[i]!;
    }
  }
  if (micro.length > 1) {
    const k = 1 / micro.length;
    loss *= k;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= k;
  }
  const dpSize = o.dp?.worldSize ?? 1;
  if (o.dp && dpSize > 1) {
    // one buffer: every gradient, then the loss
    const total = m.specs.reduce((n, s) => n + grads.get(s.name)!.length, 0);
    const flat = new Float32Array(total + 1);
    let at = 0;
    for (const s of m.specs) {
      flat.set(grads.get(s.name)!, at);
      at += grads.get(s.name)!.length;
    }
    flat[total] = loss;
    await o.dp.allReduce(flat, 'mean');
    at = 0;
    for (const s of m.specs) {
      const n = grads.get(s.name)!.length;
      grads.set(s.name, flat.subarray(at, at + n));
      at += n;
    }
    loss = flat[total]!;
  }
  const gradNorm = await tensorGlobalNorm(m, grads, o.tp);
  if (o.clipNorm) {
    const f = o.clipNorm / (gradNorm + 1e-6); // PyTorch's clip_grad_norm_, as clipGlobalNorm
    if (f < 1) for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i]! *= f;
  }
  // AdamW reads nothing of the model but param(name), which the shard has under the same names
  const host: Pick<Gpt, 'param'> = m;
  opt.apply(host as Gpt, grads, o.lr);
  return { loss, gradNorm, lr: o.lr, tokens: micro.reduce((n, b) => n + b.batch * b.seqLen, 0) * dpSize };
}
