// Kernels the tfjs wasm backend lacks. tfjs-backend-wasm 4.22 has no UnsortedSegmentSum, which the
// gradient of every gather (an embedding lookup) calls; this one runs in JS over the wasm heap.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TensorFlow. */
function unsortedSegmentSum({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const x = inputs.x!;
  const ids = inputs.segmentIds!;
  const numSegments = Number(attrs?.numSegments);
  if (x.dtype !== 'float32' || ids.dtype !== 'int32') {
    throw new Error(
      `UnsortedSegmentSum (flowlm wasm kernel): needs float32 x and int32 segmentIds, got ${x.dtype} and ${ids.dtype}`,
    );
  }
  const rows = ids.shape.reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(ids.shape.length).reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([numSegments, ...x.shape.slice(ids.shape.length)], 'float32');
  // views after makeOutput: allocating may grow the heap, which detaches earlier views
  const o = wasm.typedArrayFromHeap(out) as Float32Array;
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  const iv = wasm.typedArrayFromHeap(ids) as Int32Array;
  o.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = iv[r]!;
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let c = 0; c < inner; c++) o[dst + c]! += xv[src + c]!;
  }
  return out;
}

/** Registers the missing kernels once the wasm backend exists; a no-op for kernels already there. */
export function registerWasmKernels(): void {
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSum as tf.KernelFunc,
    });
  }
}
