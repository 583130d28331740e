// Whether the active backend's matrix product gives a row the same bits whatever the other rows around
// it and their number. Batched evaluation and rollouts rely on it to score a sequence identically in any
// batch (src/nn/eval/loglik.ts), and it holds for tfjs's own kernels and for OpenBLAS's SkylakeX and
// Sandybridge kernels. OpenBLAS's Haswell/Zen kernels (AVX2 with FMA, picked on AMD EPYC) round a row
// differently by its place in the product and the product's height: measured there, 108-204 of 336
// placements of the same 37 rows among others differed in some bit, for K >= 64 and N >= 96 (row
// values then agree to float32 rounding, ~1e-7 relative). Probed once per backend with the same kind of
// placements, a few small products.
import * as tf from '@tensorflow/tfjs';
import { nativeMatmulActive } from './native/native-matmul.ts';

const known = new Map<string, boolean>();

/** Deterministic values in [-0.5, 0.5] (no RNG state touched). */
const values = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i * 12.9898 + seed));

function probe(): boolean {
  const K = 96;
  const N = 128;
  const rows = 37;
  const base = values(rows * K, 2);
  const b = tf.tensor2d(values(K * N, 1), [K, N]);
  try {
    let ref: Float32Array | undefined;
    for (const [before, after] of [
      [0, 0],
      [1, 3],
      [5, 40],
      [16, 0],
      [21, 11],
    ] as const) {
      const m = before + rows + after;
      const a = values(m * K, 7);
      a.set(base, before * K);
      const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, K]), b));
      const got = (c.dataSync() as Float32Array).slice(before * N, (before + rows) * N);
      c.dispose();
      if (!ref) ref = got;
      else if (got.some((x, i) => x !== ref![i])) return false;
    }
    return true;
  } finally {
    b.dispose();
  }
}

/** True when the active backend's matMul is row-invariant (see above); probed once per backend and
 * matmul kernel set. */
export function matmulRowInvariant(): boolean {
  const key = `${tf.getBackend()}:${nativeMatmulActive()}`;
  let v = known.get(key);
  if (v === undefined) known.set(key, (v = probe()));
  return v;
}
