// Shared by the collectives tests: seeded inputs, a float64 reference, the exact order the ring sums
// in, and a checksum of the bytes (to compare ranks bit for bit across threads and processes).
import { shardRange } from '../../../src/runtime/collectives/collective.ts';
import { Rng } from '../../../src/runtime/rng.ts';

/** One array per rank, values in [-scale, scale), different for every (seed, rank). */
export function rankInputs(worldSize: number, length: number, seed: number, scale = 1): Float32Array[] {
  return Array.from({ length: worldSize }, (_, r) => rankInput(r, length, seed, scale));
}

export function rankInput(rank: number, length: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed * 1000 + rank);
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

/** The elementwise sum (or mean) in float64, and the bound a float32 sum of these terms stays within. */
export function reference(inputs: Float32Array[], op: 'sum' | 'mean'): { value: Float64Array; tol: Float64Array } {
  const n = inputs[0]!.length,
    w = inputs.length;
  const value = new Float64Array(n),
    tol = new Float64Array(n);
  for (const a of inputs)
    for (let i = 0; i < n; i++) {
      value[i] = value[i]! + a[i]!;
      tol[i] = tol[i]! + Math.abs(a[i]!);
    }
  for (let i = 0; i < n; i++) {
    tol[i] = tol[i]! * w * 2 ** -23 + 1e-30;
    if (op === 'mean') {
      value[i] = value[i]! / w;
      tol[i] = tol[i]! / w;
    }
  }
  return { value, tol };
}

/** What the ring must produce bit for bit: chunk c is summed in float32 starting at rank c+1, around
 * the ring, ending at rank c, which divides by worldSize for 'mean'. */
export function ringOrder(inputs: Float32Array[], op: 'sum' | 'mean'): Float32Array {
  const w = inputs.length,
    n = inputs[0]!.length;
  const out = new Float32Array(n);
  for (let c = 0; c < w; c++) {
    const [s, e] = shardRange(n, c, w);
    for (let i = s; i < e; i++) {
      let acc = inputs[(c + 1) % w]![i]!;
      for (let k = 2; k <= w; k++) acc = Math.fround(acc + inputs[(c + k) % w]![i]!);
      out[i] = op === 'mean' && w > 1 ? acc / w : acc;
    }
  }
  return out;
}

/** First index where `got` is further from `want` than `tol`, or -1. */
export function firstMismatch(got: Float32Array, want: Float64Array, tol: Float64Array): number {
  for (let i = 0; i < got.length; i++) if (!(Math.abs(got[i]! - want[i]!) <= tol[i]!)) return i;
  return -1;
}

/** FNV-1a over the 32-bit words of the array: equal checksums mean equal bits (with near certainty). */
export function checksum(a: Float32Array): string {
  const words = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let h = 0x811c9dc5,
    h2 = 0;
  for (let i = 0; i < words.length; i++) {
    h = Math.imul(h ^ words[i]!, 0x01000193);
    h2 = (h2 + words[i]!) >>> 0;
  }
  return `${(h >>> 0).toString(16)}-${h2.toString(16)}-${a.length}`;
}

export function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
