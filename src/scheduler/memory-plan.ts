// The memory planner: what one replica holds at the peak of a training step, term by term, counted
// from what the code keeps rather than fitted. Two places hold it: tfjs tensors (the parameters, the
// gradients the backward pass forms, the tensors the forward pass saves for it — on wasm the tape's
// copy of every saved input is a real copy, the embedding's gather keeps one of wte — and the head
// pass's vocabulary blocks, chunk of [rows, V] probabilities and per-block products, nn/head/head-rows.ts,
// where the step peaks) and plain JS arrays (the flat gradient the all-reduce and the optimizer use,
// nn/train/replica.ts; AdamW's moments, nn/optim/adamw.ts, sharded by ZeRO-1; the JS kernels' saved
// state — layer norm, GELU, attention probabilities; the head's copies of W and dW; the native head's
// [rows, V] chunk when the native kernels run it, which leaves the head no tensors). tf.profile sees
// the first kind only: bench/memory-plan.mts measures it within 12% for three sizes; the JS side is
// predicted only.
import { headChunkCount, VOCAB_BLOCK } from '../nn/head/head-chunks.ts';
import { loadNative } from '../nn/backend/native/native.ts';
import { CHUNK as OFFLOAD_CHUNK } from '../nn/optim/offload-chunk.ts';
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
  /** trainer offload 'disk': the moments in a file, one chunk of them in memory at a time */
  offloadDisk?: boolean;
  /** the native kernel pack runs the head (its [rows, V] chunk in native memory, no tensor blocks);
   * default: whether it loads in this process */
  nativeKernels?: boolean;
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
  /** the head pass's tensors: W's vocabulary blocks and their transposes, a chunk of [rows, V]
   * probabilities and the chunk's per-block products (its JS arrays, W, dW^T, dW, are in jsPeak) */
  headChunk: number;
  /** the head pass's JS arrays: W's values, dW^T, dW (3 V d) and dh; with the native kernels W's
   * values, dW, dh and the native [rows, V] chunk (predicted only) */
  headArrays: number;
  /** the tensors held at the head pass's peak: params + activations + headChunk */
  atHead: number;
  /** the tensors held when the backward pass ends: 2 params + headGradHeld + activations - V d */
  atEnd: number;
  /** most tensor bytes alive at once: the larger of the head pass's peak and the backward pass's end */
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

/** Floats one block keeps as tensors until the backward pass, as tf.profile counts them on wasm (where
 * the tape's copy of every saved input is a real copy, an Identity kernel): per linear its input, the
 * tape's copy of it and of its weight, and its output; the layer norms' and attention's outputs; the
 * residual sums (3 n d each). Counted from one gelu block's kernels, bench/memory-plan.mts. */
function blockTensorFloats(cfg: GptConfig, n: number): number {
  const d = cfg.dModel;
  const f = mlpWidth(cfg);
  const swiglu = cfg.activation === 'swiglu';
  // ln1 out + copy, qkv, attention out + copy, c_proj out, residual; ln2 out + copy, c_fc out,
  // activation out + copy, c_proj out, residual
  const attn = 2 * d + 3 * d + 2 * d + d + 3 * d;
  const mlp = 2 * d + f + 2 * f + d + 3 * d + (swiglu ? 4 * f : 0);
  const weights = 3 * d * d + d * d + d * f + (swiglu ? d * f : 0) + f * d;
  return n * (attn + mlp) + weights;
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
  const kernel = blockKernelFloats(cfg, s.rows, s.seqLen);
  // embedding: the tape's copy of wte for the gather (V d), the token and position sums and copies
  const embed = V * d + 7 * n * d + 2 * s.seqLen * d;
  // with checkpointing each block keeps its input and the tape's copy of it; + ln_f's output
  const activations = embed + (checkpointing ? L * 2 * n * d : L * blockTensorFloats(cfg, n)) + n * d;
  const kernelState = (checkpointing ? kernel : L * kernel) + n * d; // + ln_f
  const rowsPerChunk = Math.ceil(n / headChunkCount(n, V));
  const vocabBlocks = Math.ceil(V / VOCAB_BLOCK);
  // the head pass (head-rows.ts), all tensors: W in vocabulary blocks and each block transposed
  // (2 V d), a chunk's probabilities [rows, V], and until the chunk's tidy ends every block's
  // (c s h)^T p [d, block] and p W [rows, d] products and the hs rows and their transpose
  // with the native kernels (src/nn/backend/native/head.c) none of these are tensors: the chunk's
  // [rows, V] buffer is native memory, counted with the JS arrays
  const native = s.nativeKernels ?? loadNative() !== undefined;
  const headChunk = native
    ? 0
    : 2 * V * d + rowsPerChunk * V + d * V + 3 * vocabBlocks * rowsPerChunk * d + 2 * rowsPerChunk * d;
  // backward's end: every gradient; the head's dW kept by the custom op, its copy handed to the tape,
  // the gather's segment sum and its transpose, and their sum (tied)
  const headGradHeld = cfg.tiedHead ? 4 * V * d : V * d;
  const largest = Math.max(...paramSpecs(cfg).map((p) => sizeOf(p.shape)));
  const moments = s.offloadDisk
    ? 2 * Math.min(largest, OFFLOAD_CHUNK)
    : 2 * (s.zero && s.worldSize > 1 ? Math.ceil(P / s.worldSize) : P);
  const atHead = P + activations + headChunk;
  const atEnd = P + P + headGradHeld + activations - V * d;
  const tensorPeak = Math.max(atHead, atEnd);
  // W's values, dW (and, on the JS path, dW^T), dh; natively also the chunk's [rows, V] buffer
  const headArrays = native ? 2 * V * d + n * d + rowsPerChunk * V : 3 * V * d + n * d;
  const jsPeak = P + moments + kernelState + headArrays;
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
    headArrays: b(headArrays),
    atHead: b(atHead),
    atEnd: b(atEnd),
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
