// The wasm backend's matrix products on the native addon (native.ts): 'BatchMatMul' and
// '_FusedMatMul' (bias, no activation) are re-registered for backendName 'wasm' with kernels that
// hand Float32Array views of the wasm heap to OpenBLAS's sgemm, so no tensor is copied. Transposes,
// batches and broadcast batch dimensions go to sgemm as they are (wasm's own kernel reaches XNNPACK
// only for a plain 2-D product). Anything else (int32, fused activations, PReLU weights, a bias that
// is not one value per column) runs the original wasm kernel, kept for that and for setNativeMatmul(false).
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadNative, type NativeAddon } from './native.ts';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const NAMES = ['BatchMatMul', '_FusedMatMul'] as const;
const originals = new Map<string, tf.KernelConfig>();
let active = false;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Element offsets (a_i, b_i, c_i) of each product over the broadcast batch dimensions `outer`;
 * null for a single product. Batch dims are aligned from the right, size 1 broadcasting. */
export function batchOffsets(
  aOuter: readonly number[],
  bOuter: readonly number[],
  outer: readonly number[],
  aSize: number,
  bSize: number,
  cSize: number,
): Int32Array | null {
  const batch = size(outer);
  if (batch === 1) return null;
  const offs = new Int32Array(3 * batch);
  const pa = outer.length - aOuter.length;
  const pb = outer.length - bOuter.length;
  for (let i = 0; i < batch; i++) {
    let rem = i;
    let ai = 0;
    let bi = 0;
    let sa = 1;
    let sb = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = rem % outer[d]!;
      rem = Math.floor(rem / outer[d]!);
      const da = d >= pa ? aOuter[d - pa]! : 1;
      const db = d >= pb ? bOuter[d - pb]! : 1;
      if (da !== 1) ai += coord * sa;
      if (db !== 1) bi += coord * sb;
      sa *= da;
      sb *= db;
    }
    offs[3 * i] = ai * aSize;
    offs[3 * i + 1] = bi * bSize;
    offs[3 * i + 2] = i * cSize;
  }
  return offs;
}

function product(
  addon: NativeAddon,
  wasm: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2)
    throw new Error(`matMul (flowlm native): operands need rank >= 2, got [${a.shape}] and [${b.shape}]`);
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb)
    throw new Error(
      `matMul (flowlm native): inner dimensions ${k} and ${kb} of [${a.shape}] and [${b.shape}] ` +
        `(transposeA=${transposeA}, transposeB=${transposeB}) must match`,
    );
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const out = wasm.makeOutput([...outer, m, n], 'float32');
  const batch = size(outer);
  if (batch === 0 || m === 0 || n === 0) return out;
  // views only now: makeOutput may have grown the heap, which detaches views taken before
  const view = (t: tf.TensorInfo) => wasm.typedArrayFromHeap(t) as Float32Array;
  addon.gemm(
    view(a),
    view(b),
    view(out),
    bias ? view(bias) : null,
    batchOffsets(aOuter, bOuter, outer, m * k, k * n, m * n),
    batch,
    m,
    n,
    k,
    transposeA,
    transposeB,
  );
  return out;
}

function fallback(name: string, args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  return originals.get(name)!.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
}

function batchMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const addon = loadNative();
  const { a, b } = args.inputs;
  if (!addon || a!.dtype !== 'float32' || b!.dtype !== 'float32') return fallback('BatchMatMul', args);
  const at = args.attrs ?? {};
  return product(addon, args.backend as BackendWasm, a!, b!, undefined, at.transposeA === true, at.transposeB === true);
}

function fusedMatMul(args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const addon = loadNative();
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const at = args.attrs ?? {};
  const n = at.transposeB === true ? b!.shape[b!.shape.length - 2] : b!.shape[b!.shape.length - 1];
  const plain =
    a!.dtype === 'float32' &&
    b!.dtype === 'float32' &&
    (at.activation ?? 'linear') === 'linear' &&
    !preluActivationWeights &&
    (!bias || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === n));
  if (!addon || !plain) return fallback('_FusedMatMul', args);
  return product(addon, args.backend as BackendWasm, a!, b!, bias, at.transposeA === true, at.transposeB === true);
}

const KERNELS: Record<(typeof NAMES)[number], (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
};

/** Swaps the wasm backend's matmul kernels to the native ones (true) or back (false). Throws when
 * asked for native kernels the addon cannot provide. */
export function setNativeMatmul(on: boolean): void {
  if (on === active) return;
  if (on && !loadNative())
    throw new Error('flowlm native matmul: the addon is not loaded (see nativeSkipReason()); cannot switch it on');
  for (const name of NAMES) {
    const current = tf.getKernel(name, 'wasm');
    if (!current)
      throw new Error(
        `flowlm native matmul: the wasm backend has no ${name} kernel; initialise the wasm backend first`,
      );
    if (on) originals.set(name, current);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(
      on ? { kernelName: name, backendName: 'wasm', kernelFunc: KERNELS[name] as tf.KernelFunc } : originals.get(name)!,
    );
  }
  active = on;
}

/** True while the native kernels are registered. */
export const nativeMatmulActive = (): boolean => active;

/** Registers the native matmul when the addon loads; returns the words for the backend line naming
 * every native kernel in use (matmul here; attention, the head and AdamW call the addon directly), or undefined
 * when wasm keeps its own kernels. */
export function registerNativeMatmul(): string | undefined {
  if (!loadNative()) return undefined;
  setNativeMatmul(true);
  return 'native kernels: matmul (OpenBLAS), attention, head + cross-entropy, GELU, layer norm, AdamW';
}
