// The native matmul (src/nn/backend/native: OpenBLAS sgemm on the wasm heap) computes what tfjs's
// own wasm kernels compute, within float rounding, and what a float64 product computes, for
// transposes, batches, broadcast batch dimensions, odd and zero sizes and the fused bias. Runs where
// the addon is built (pretest installs libopenblas-dev and builds it); elsewhere the suite is skipped
// with the loader's reason.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { nativeMatmulActive, setNativeMatmul } from '../../src/nn/backend/native/native-matmul.ts';
import { loadNative, nativeSkipReason } from '../../src/nn/backend/native/native.ts';
import { Rng } from '../../src/runtime/rng.ts';

const addon = loadNative();
const title = addon ? 'native matmul (OpenBLAS)' : `native matmul skipped: ${nativeSkipReason()}`;

const rng = new Rng(11);
const randn = (shape: number[]) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1),
    shape,
  );

/** The product in float64 straight from the definition, with numpy-style batch broadcasting. */
function reference(a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean): { values: Float64Array; shape: number[] } {
  const av = a.dataSync();
  const bv = b.dataSync();
  const [ra, rb] = [a.rank, b.rank];
  const m = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const ao = a.shape.slice(0, -2);
  const bo = b.shape.slice(0, -2);
  const rank = Math.max(ao.length, bo.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(ao), pad(bo)];
  const outer = pa.map((d, i) => Math.max(d, pb[i]!));
  const batch = outer.reduce((x, y) => x * y, 1);
  const values = new Float64Array(batch * m * n);
  for (let i = 0; i < batch; i++) {
    // flat batch index -> coordinates -> the operands' batch indices (size-1 dims broadcast)
    let rem = i;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rem % outer[d]!;
      rem = Math.floor(rem / outer[d]!);
      if (pa[d] !== 1) ia += c * sa;
      if (pb[d] !== 1) ib += c * sb;
      sa *= pa[d]!;
      sb *= pb[d]!;
    }
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const x = av[ia * m * k + (ta ? j * m + r : r * k + j)]!;
          const y = bv[ib * k * n + (tb ? c * k + j : j * n + c)]!;
          s += x * y;
        }
        values[i * m * n + r * n + c] = s;
      }
  }
  return { values, shape: [...outer, m, n] };
}

/** max |x - y| relative to max |y|, the float rounding measure used throughout */
function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs `f` with the wasm kernels, then with the native ones; returns both results. */
function both(f: () => tf.Tensor): { wasm: tf.Tensor; native: tf.Tensor } {
  setNativeMatmul(false);
  const wasm = f();
  setNativeMatmul(true);
  const native = f();
  return { wasm, native };
}

describe.skipIf(!addon)(title, () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', announce: false, headThread: false });
  });
  afterAll(() => setNativeMatmul(true));

  it('is registered by initBackend for the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(nativeMatmulActive()).toBe(true);
  });

  const cases: Array<[string, number[], number[], boolean, boolean]> = [
    ['plain odd sizes', [7, 5], [5, 3], false, false],
    ['transposeA', [5, 7], [5, 3], true, false],
    ['transposeB', [7, 5], [3, 5], false, true],
    ['both transposed', [5, 7], [3, 5], true, true],
    ['batch', [4, 7, 5], [4, 5, 3], false, false],
    ['batch, both transposed', [4, 5, 7], [4, 3, 5], true, true],
    ['batch against a matrix', [4, 7, 5], [5, 3], false, false],
    ['a matrix against a batch, transposeB', [7, 5], [4, 3, 5], false, true],
    ['batch of one against a batch', [1, 7, 5], [4, 5, 3], false, false],
    ['attention shape, q k^T', [2, 4, 33, 8], [2, 4, 33, 8], false, true],
    ['a model shape', [1024, 128], [128, 384], false, false],
    ['a weight-gradient shape', [1024, 128], [1024, 512], true, false],
  ];
  for (const [name, as, bs, ta, tb] of cases) {
    it(`equals the wasm kernel and a float64 product: ${name} [${as}]${ta ? 'T' : ''} x [${bs}]${tb ? 'T' : ''}`, () => {
      const a = randn(as);
      const b = randn(bs);
      const { wasm, native } = both(() => tf.matMul(a, b, ta, tb));
      const ref = reference(a, b, ta, tb);
      expect(native.shape).toEqual(ref.shape);
      expect(wasm.shape).toEqual(ref.shape);
      expect(relErr(native.dataSync(), wasm.dataSync())).toBeLessThan(1e-5);
      expect(relErr(native.dataSync(), ref.values)).toBeLessThan(1e-5);
      tf.dispose([a, b, wasm, native]);
    });
  }

  it('broadcasts batch dimensions of both operands ([2,1,7,5] x [3,5,6] -> [2,3,7,6])', () => {
    // wasm's own kernel flattens the batch dimensions and cannot broadcast both sides: float64 only
    const a = randn([2, 1, 7, 5]);
    const b = randn([3, 5, 6]);
    const c = tf.matMul(a, b);
    const ref = reference(a, b, false, false);
    expect(c.shape).toEqual([2, 3, 7, 6]);
    expect(relErr(c.dataSync(), ref.values)).toBeLessThan(1e-5);
    tf.dispose([a, b, c]);
  });

  it('handles zero sizes: no rows, an empty inner dimension (zeros), an empty batch', () => {
    const shapes: Array<[number[], number[], number[]]> = [
      [
        [0, 5],
        [5, 3],
        [0, 3],
      ],
      [
        [7, 0],
        [0, 3],
        [7, 3],
      ],
      [
        [0, 7, 5],
        [0, 5, 3],
        [0, 7, 3],
      ],
    ];
    for (const [as, bs, out] of shapes) {
      const a = randn(as);
      const b = randn(bs);
      const c = tf.matMul(a, b);
      expect(c.shape).toEqual(out);
      expect(Array.from(c.dataSync())).toEqual(new Array(out.reduce((x, y) => x * y, 1)).fill(0));
      tf.dispose([a, b, c]);
    }
    // with a bias and no inner dimension the output is the bias on every row
    const y = tf.fused.matMul({ a: tf.zeros([2, 0]), b: tf.zeros([0, 3]), bias: tf.tensor1d([1, 2, 3]) });
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('fused matmul with bias equals the wasm kernel; a fused activation runs the wasm kernel', () => {
    const a = randn([1, 33, 17]);
    const b = randn([1, 17, 9]);
    const bias = randn([9]);
    for (const activation of ['linear', 'relu'] as const) {
      const { wasm, native } = both(() => tf.fused.matMul({ a, b, bias, activation }));
      const ref = reference(a, b, false, false).values.map((v, i) => v + bias.dataSync()[i % 9]!);
      const expected = activation === 'relu' ? ref.map((v) => Math.max(0, v)) : ref;
      expect(relErr(native.dataSync(), wasm.dataSync())).toBeLessThan(1e-5);
      expect(relErr(native.dataSync(), expected)).toBeLessThan(1e-5);
      tf.dispose([wasm, native]);
    }
    // transposed operands: float64 only, tfjs-backend-wasm 4.22's _FusedMatMul gets these wrong
    // (measured here: 0.39 max relative error)
    const y = tf.fused.matMul({
      a: tf.transpose(a, [0, 2, 1]),
      b: tf.transpose(b, [0, 2, 1]),
      bias,
      transposeA: true,
      transposeB: true,
    });
    const ref = reference(a, b, false, false).values.map((v, i) => v + bias.dataSync()[i % 9]!);
    expect(relErr(y.dataSync(), ref)).toBeLessThan(1e-5);
    tf.dispose([a, b, bias, y]);
  });

  it('writes into a heap that grew for its output (views are taken after the allocation)', () => {
    // emscripten's module has HEAPU8; tfjs's typings leave it out
    const heapBytes = () => ((tf.backend() as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.byteLength;
    const before = heapBytes();
    // an output larger than the whole heap so far forces the wasm memory to grow inside the kernel
    const cols = Math.ceil(before / 4 / 64) + 1024;
    const a = randn([64, 3]);
    const b = randn([3, cols]);
    const c = tf.matMul(a, b);
    expect(heapBytes()).toBeGreaterThan(before);
    const av = a.dataSync();
    const bv = b.dataSync();
    const cv = c.dataSync();
    for (const [r, col] of [
      [0, 0],
      [63, cols - 1],
      [31, cols >> 1],
    ] as const) {
      const want = av[r * 3]! * bv[col]! + av[r * 3 + 1]! * bv[cols + col]! + av[r * 3 + 2]! * bv[2 * cols + col]!;
      expect(cv[r * cols + col]).toBeCloseTo(want, 5);
    }
    tf.dispose([a, b, c]);
  });

  it('rejects mismatched inner dimensions with the shapes in the message', () => {
    expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(/inner/);
  });
});
