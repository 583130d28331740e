// Loads flowlm's optional native kernel pack (binding.gyp, gemm.c): a Node addon over the system
// OpenBLAS, built at install time where libopenblas-dev and a compiler exist. Where it is missing or
// fails to load, loadNative() returns undefined and nativeSkipReason() says why in one line; wasm
// then runs every kernel, as before. FLOWLM_NATIVE=0 turns it off; FLOWLM_BLAS_THREADS sets OpenBLAS's
// threads per process (default 1: each rank is its own process or thread, so more would oversubscribe).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /** For i < batch: C_i = op(A_i) op(B_i) (+ bias), row-major, op(A) [m, k], op(B) [k, n]; offsets holds
   * three element offsets (a_i, b_i, c_i) per product, null for one product at offset 0. */
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    bias: Float32Array | null,
    offsets: Int32Array | null,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
  ): void;
  /** Attention over packed q|k|v rows [batch*t, 3d] (attention-core.ts's JS kernel, compiled): writes
   * out [batch*t, d] and the softmax probs [batch, heads, t, t]; keep: dropout factors or null. */
  attentionForward(
    qkv: Float32Array,
    batch: number,
    t: number,
    heads: number,
    lo: Int32Array,
    hi: Int32Array,
    keep: Float32Array | null,
    out: Float32Array,
    probs: Float32Array,
  ): void;
  /** Its backward pass: writes dqkv [batch*t, 3d] from dO [batch*t, d]. */
  attentionBackward(
    dO: Float32Array,
    qkv: Float32Array,
    probs: Float32Array,
    batch: number,
    t: number,
    heads: number,
    lo: Int32Array,
    hi: Int32Array,
    keep: Float32Array | null,
    dqkv: Float32Array,
  ): void;
  /** One AdamW update (src/nn/optim/adamw-update.ts): m, v in place, new parameters into out. */
  adamwUpdate(
    p: Float32Array,
    out: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    b1: number,
    b2: number,
    stepSize: number,
    bc2Sqrt: number,
    decay: number,
    eps: number,
  ): void;
  /** The fused head + cross-entropy over one chunk of rows (head.c; head-rows.ts's contract): loss gets
   * s_r loss_r; with dh and dw, dh the rows' gradient and dw [V, d] softmax^T diag(s) h, added
   * (accumulate) or written. */
  headChunk(
    h: Float32Array,
    w: Float32Array,
    targets: Int32Array,
    scale: Float32Array,
    eps: number,
    wMean: Float32Array | null,
    loss: Float64Array,
    dh: Float32Array | null,
    dw: Float32Array | null,
    accumulate: boolean,
  ): void;
  /** GELU (gelu.ts's JS kernel compiled): y and the kept sigmoid s from x; dx from x, s, dy. */
  geluForward(x: Float32Array, y: Float32Array, s: Float32Array): void;
  geluBackward(x: Float32Array, s: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Layer norm over rows of gamma.length (layer-norm.ts's JS kernel compiled); the backward adds
   * into dgamma and dbeta (float64). */
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    y: Float32Array,
    xhat: Float32Array,
    rstd: Float64Array,
  ): void;
  layerNormBackward(
    dy: Float32Array,
    gamma: Float32Array,
    xhat: Float32Array,
    rstd: Float64Array,
    dx: Float32Array,
    dgamma: Float64Array,
    dbeta: Float64Array,
  ): void;
  setThreads(n: number): void;
  info(): { config: string; threads: number };
}

export const ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'flowlm_native.node');

let loaded: { addon?: NativeAddon; reason?: string } | undefined;

/** The thread count OpenBLAS gets: $FLOWLM_BLAS_THREADS, else 1. */
export function blasThreads(): number {
  const v = process.env.FLOWLM_BLAS_THREADS;
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FLOWLM_BLAS_THREADS=${v} is not a thread count; use a whole number >= 1 or unset it (1)`);
  return n;
}

function load(): { addon?: NativeAddon; reason?: string } {
  if (process.env.FLOWLM_NATIVE === '0') return { reason: 'disabled by FLOWLM_NATIVE=0' };
  if (!existsSync(ADDON_PATH)) return { reason: 'native kernels not built (npm run build:native)' };
  const threads = blasThreads();
  // OpenBLAS sizes its thread pool when the library loads: set the count before the addon pulls it in
  process.env.OPENBLAS_NUM_THREADS ??= String(threads);
  try {
    const addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    addon.setThreads(threads);
    return { addon };
  } catch (err) {
    return { reason: `native kernels failed to load (${err instanceof Error ? err.message.split('\n')[0] : err})` };
  }
}

let suspended = false;

/** The addon, or undefined when it is not built, fails to load or is disabled. */
export function loadNative(): NativeAddon | undefined {
  loaded ??= load();
  return suspended ? undefined : loaded.addon;
}

/** Runs `fn` with every native kernel off (wasm and JS kernels only): benches compare the two in one
 * process. Tensors made inside are ordinary tensors. */
export function withoutNative<T>(fn: () => T): T {
  const was = suspended;
  suspended = true;
  try {
    return fn();
  } finally {
    suspended = was;
  }
}

/** Why loadNative() returned undefined; undefined when it loaded. */
export function nativeSkipReason(): string | undefined {
  loaded ??= load();
  return loaded.reason;
}
