// matmulRowInvariant (src/nn/backend/row-invariance.ts) against an independent check of other shapes:
// the same 29 rows placed among others (before, after, in products of other heights) give the same
// bits exactly when the probe says the backend is row-invariant. tfjs's own wasm kernels are; the
// native kernels are or not by the machine's OpenBLAS kernels (not on AVX2+FMA Haswell/Zen ones).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { nativeMatmulActive, setNativeMatmul } from '../../src/nn/backend/native/native-matmul.ts';
import { loadNative } from '../../src/nn/backend/native/native.ts';
import { matmulRowInvariant } from '../../src/nn/backend/row-invariance.ts';
import { Rng } from '../../src/runtime/rng.ts';

const rng = new Rng(5);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);

/** Whether 29 rows of [29, K] x [K, N] come out the same bits at every placement tried. */
function placementsAgree(K: number, N: number): boolean {
  const rows = 29;
  const base = rand(rows * K);
  const b = tf.tensor2d(rand(K * N), [K, N]);
  let ref: Float32Array | undefined;
  let same = true;
  for (const [before, after] of [
    [0, 0],
    [3, 0],
    [0, 30],
    [7, 101],
    [64, 2],
  ] as const) {
    const a = rand((before + rows + after) * K);
    a.set(base, before * K);
    const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [before + rows + after, K]), b));
    const got = (c.dataSync() as Float32Array).slice(before * N, (before + rows) * N);
    c.dispose();
    if (ref && got.some((x, i) => x !== ref![i])) same = false;
    ref ??= got;
  }
  b.dispose();
  return same;
}

const agreeEverywhere = () =>
  [
    [200, 257],
    [768, 96],
    [64, 1024],
  ].every(([K, N]) => placementsAgree(K!, N!));

describe('matmulRowInvariant', () => {
  let wasNative = false;
  beforeAll(async () => {
    await initBackend({ announce: false });
    wasNative = nativeMatmulActive();
  });
  afterAll(() => {
    if (loadNative()) setNativeMatmul(wasNative);
  });

  it("tfjs's own kernels: row-invariant, and placed rows agree", () => {
    if (loadNative()) setNativeMatmul(false);
    expect(matmulRowInvariant()).toBe(true);
    expect(agreeEverywhere()).toBe(true);
  });

  it.runIf(loadNative())('native kernels: the probe says what placing rows among others shows', () => {
    setNativeMatmul(true);
    const probe = matmulRowInvariant();
    console.log(`native matmul row-invariant on this machine: ${probe}`);
    expect(agreeEverywhere()).toBe(probe);
  });
});
