// The memory planner: what one replica holds at the peak of a training step, term by term, counted
// from what the code keeps rather than fitted. Two places hold it: tfjs tensors (the parameters, the
// gradients the backward pass forms, the tensors the forward pass saves for it: the inputs and weight
// handles of every linear, nn/backend/matmul.ts, and the output head's eagerly formed gradients,
// nn/head/head-loss.ts) and plain JS arrays (the flat gradient the all-reduce and the optimizer use,
// nn/train/replica.ts; AdamW's moments, nn/optim/adamw.ts, sharded by ZeRO-1; the JS kernels' saved
// state — layer norm, GELU, attention probabilities; the head's chunk of [rows, V] probabilities).
// tf.profile sees the first kind only, which is what bench/memory-plan.mts measures.
import { headChunkCount } from '../nn/head/head-loss.ts';
import { mlpWidth, type GptConfig } from '../nn/model/config.ts';
import { paramSpecs, sizeOf } from '../nn/model/params.ts';

const F32 = 4;

export interface MemoryShape {
  /** rows of one micro-batch */
  rows: number;
  seqLen: number;
  worldSize: number;
  /** ZeRO-1: AdamW's moments sharded over the ranks */
  zero: boolean;
}

/** Bytes of each term at the step's peak, for one replica. */
export interface MemoryTerms {
  /** float32 parameters (tensors) */
  params: number;
  /** the backward pass's gradient tensors, all alive when it ends */
  grads: number;
  /** the head's gradient of the tied embedding, formed in the forward pass and still held when the
   * embedding's own gradient is added to it at the backward pass's end (two more [V, d] tensors) */
  headGradHeld: number;
  /** tensors the forward pass keeps for the backward pass: linears' inputs and weight handles, the
   * head's row gradient; with checkpointing only each block's input plus one block during recompute */
  activations: number;
  /** the flat float32 gradient the all-reduce and the optimizer read (JS) */
  flatGrads: number;
  /** AdamW's m and v (JS), 1/worldSize of them under ZeRO-1 */
  moments: number;
  /** the JS kernels' saved arrays: layer-norm x-hat, GELU input and sigmoid, attention q|k|v and
   * probabilities (with checkpointing: one block's worth plus the final layer norm) */
  kernelState: number;
  /** the head pass's JS arrays: a chunk of [rows, V] probabilities, a copy of W and its gradient */
  headChunk: number;
  /** most tensor bytes alive at once: the larger of the backward pass's start and its end */
  tensorPeak: number;
  /** the JS arrays alive at once (outside tf.profile's count) */
  jsPeak: number;
  /** tensorPeak + jsPeak */
  total: number;
  /** rows of probabilities the head holds at once */
  headRowsPerChunk: number;
}

export interface MemoryPlan {
  params: number;
  plain: MemoryTerms;
  checkpointed: MemoryTerms;
}

/** Floats one block saves as tensors: each linear's input [n, in] and a handle on its weight [in, out]. */
function blockTensorFloats(cfg: GptConfig, n: number): number {
  const d = cfg.dModel;
  const f = mlpWidth(cfg);
  const swiglu = cfg.activation === 'swiglu';
  // c_attn (d -> 3d), attn.c_proj (d -> d), c_fc (d -> f), [c_gate (d -> f)], mlp.c_proj (f -> d)
  const inputs = n * (3 * d + f + (swiglu ? d : 0));
  const weights = 3 * d * d + d * d + d * f + (swiglu ? d * f : 0) + f * d;
  // swiglu's tf ops keep hidden, silu(gate), gate and sigmoid(gate)
  const gate = swiglu ? 4 * n * f : 0;
  // relu and the tf-path kernels keep their inputs as tensors too; gelu/layer norm/attention on the
  // JS path keep theirs in JS (kernelFloats)
  const relu = cfg.activation === 'relu' ? n * f : 0;
  return inputs + weights + gate + relu;
}

/** Floats one block's JS kernels keep: x-hat of two layer norms, GELU's input and sigmoid, the
 * attention's q|k|v copy and probabilities (and its dropout mask). */
function blockKernelFloats(cfg: GptConfig, rows: number, t: number): number {
  const n = rows * t;
  const d = cfg.dModel;
  const probs = rows * cfg.nHead * t * t * (cfg.attnDropout > 0 ? 2 : 1);
  const gelu = cfg.activation === 'gelu' ? 2 * n * mlpWidth(cfg) : 0;
  return 2 * (n * d + n) + 3 * n * d + probs + gelu;
}

function terms(cfg: GptConfig, s: MemoryShape, P: number, checkpointing: boolean): MemoryTerms {
  const n = s.rows * s.seqLen;
  const d = cfg.dModel;
  const V = cfg.vocabSize;
  const L = cfg.nLayer;
  const block = blockTensorFloats(cfg, n);
  const kernel = blockKernelFloats(cfg, s.rows, s.seqLen);
  // the head saves its gradients for h [n, d] and W [V, d]
  const head = n * d + V * d;
  const activations = checkpointing ? L * n * d + block + head : L * block + head;
  const kernelState = (checkpointing ? kernel : L * kernel) + n * d; // + ln_f
  const rowsPerChunk = Math.ceil(n / headChunkCount(n, V));
  const headChunk = rowsPerChunk * V + 2 * V * d + n * d;
  const headGradHeld = cfg.tiedHead ? 2 * V * d : 0;
  const moments = 2 * (s.zero && s.worldSize > 1 ? Math.ceil(P / s.worldSize) : P);
  const atStart = P + activations;
  const atEnd = P + P + headGradHeld;
  const tensorPeak = Math.max(atStart, atEnd);
  const jsPeak = P + moments + Math.max(kernelState + headChunk, kernelState);
  const b = (x: number) => x * F32;
  return {
    params: b(P),
    grads: b(P),
    headGradHeld: b(headGradHeld),
    activations: b(activations),
    flatGrads: b(P),
    moments: b(moments),
    kernelState: b(kernelState),
    headChunk: b(headChunk),
    tensorPeak: b(tensorPeak),
    jsPeak: b(jsPeak),
    total: b(tensorPeak + jsPeak),
    headRowsPerChunk: rowsPerChunk,
  };
}

/** The peak memory of one replica's training step, without and with activation checkpointing. */
export function memoryPlan(cfg: GptConfig, s: MemoryShape, trainableParams?: number): MemoryPlan {
  const P = trainableParams ?? paramSpecs(cfg).reduce((a, p) => a + sizeOf(p.shape), 0);
  return { params: P, plain: terms(cfg, s, P, false), checkpointed: terms(cfg, s, P, true) };
}
