// Batched scoring equals row-alone scoring bit for bit where the backend's matrix product is
// row-invariant (src/nn/backend/row-invariance.ts: tfjs's own kernels, OpenBLAS's SkylakeX and
// Sandybridge kernels); with OpenBLAS's Haswell/Zen kernels a row's products round by its place in the
// batch, and the numbers then agree to float32 rounding. Tests of batch-size invariance use this.
import { expect } from 'vitest';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { matmulRowInvariant } from '../../src/nn/backend/row-invariance.ts';

/** Relative difference allowed for a number where the matmul is not row-invariant: float32 rounding of
 * a row's products (~6e-8), carried through a few layers and summed over a continuation. */
export const NOT_INVARIANT_REL = 1e-6;

/** Whether this process's backend (chosen as flowlm's CLI chooses it) is row-invariant. */
export async function rowInvariant(): Promise<boolean> {
  await initBackend({ announce: false });
  return matmulRowInvariant();
}

function close(got: unknown, want: unknown, rel: number, path: string): void {
  if (typeof want === 'number') {
    expect(typeof got, path).toBe('number');
    const g = got as number;
    if (!Number.isFinite(want)) expect(g, path).toBe(want);
    else
      expect(Math.abs(g - want), `${path}: ${g} against ${want}`).toBeLessThanOrEqual(
        rel * Math.max(1, Math.abs(want)),
      );
    return;
  }
  if (ArrayBuffer.isView(want) && !(want instanceof DataView)) {
    const w = want as unknown as ArrayLike<number>;
    expect((got as object)?.constructor, path).toBe((want as object).constructor);
    expect((got as ArrayLike<number>).length, path).toBe(w.length);
    for (let i = 0; i < w.length; i++) close((got as ArrayLike<number>)[i], w[i], rel, `${path}[${i}]`);
    return;
  }
  if (want !== null && typeof want === 'object') {
    expect(got !== null && typeof got === 'object', path).toBe(true);
    const keys = Object.keys(want);
    expect(Object.keys(got as object).sort(), path).toEqual([...keys].sort());
    for (const k of keys)
      close((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], rel, `${path}.${k}`);
    return;
  }
  expect(got, path).toEqual(want);
}

/** `got` equals `want` exactly when `invariant`, else number by number within `rel` (other values exactly). */
export function expectBatchInvariant(got: unknown, want: unknown, invariant: boolean, rel = NOT_INVARIANT_REL): void {
  if (invariant) expect(got).toEqual(want);
  else close(got, want, rel, '$');
}
