// Small float64 values (loss, squared norms, idle fractions) shared exactly between ranks: the
// collectives carry float32s, so each rank's float64s travel as their bytes in an all-gather, which
// copies and never adds, and every rank then sums them in the same (rank) order itself.
import type { Collective } from '../../runtime/collectives/collective.ts';

/** Every rank's `values` (all ranks give as many), indexed by rank. */
export async function gatherFloat64(c: Collective, values: readonly number[]): Promise<Float64Array[]> {
  const k = values.length;
  const all = new Float64Array(c.worldSize * k);
  all.set(values, c.rank * k);
  // each rank's shard of 2k float32s is exactly its k float64s (shardRange splits evenly)
  await c.allGather(new Float32Array(all.buffer));
  return Array.from({ length: c.worldSize }, (_, r) => all.subarray(r * k, (r + 1) * k));
}
