// The AdamW update of one run of elements, shared by AdamW (adamw.ts) and ZeRO-1 (zero-adamw.ts):
// the native kernel (src/nn/backend/native/adamw.c) when the addon is loaded, else this JS loop;
// both compute in float64 in the same order, so the bits are the same whichever runs.
import { loadNative } from '../backend/native/native.ts';

export interface AdamWScalars {
  b1: number;
  b2: number;
  /** lr / (1 - b1^t) */
  stepSize: number;
  /** sqrt(1 - b2^t) */
  bc2Sqrt: number;
  /** 1 - lr wd for decayed parameters, else 1 */
  decay: number;
  eps: number;
}

/** Updates m and v in place and writes the new parameters to `out` (which may be `p`); every array
 * holds at least p.length elements, element i of each belonging together. */
export function adamwUpdate(
  p: Float32Array,
  out: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamWScalars,
): void {
  const native = loadNative();
  if (native) {
    native.adamwUpdate(p, out, g, m, v, s.b1, s.b2, s.stepSize, s.bc2Sqrt, s.decay, s.eps);
    return;
  }
  adamwUpdateJs(p, out, g, m, v, s);
}

/** The JS loop (the fallback, and what the native kernel's test compares it with). */
export function adamwUpdateJs(
  p: Float32Array,
  out: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamWScalars,
): void {
  const { b1, b2, stepSize, bc2Sqrt, decay, eps } = s;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    // m and v are read back as stored (float32), as PyTorch's update does
    out[i] = p[i]! * decay - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
}
