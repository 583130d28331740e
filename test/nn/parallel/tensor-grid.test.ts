// The dp x tp grid in Megatron's order (rank = dpRank * tp + tpRank), and its thread groups: each
// rank's TP and DP collectives reduce over exactly the ranks of its group.
import { describe, expect, it } from 'vitest';
import { createGridThreadGroups, gridPosition, gridThreadCollectives } from '../../../src/nn/parallel/tensor-grid.ts';

describe('tensor grid', () => {
  it('places ranks of a 3 x 2 grid (dp 3, tp 2)', () => {
    expect(gridPosition(0, 2, 3)).toEqual({ rank: 0, tpRank: 0, dpRank: 0, tpGroup: [0, 1], dpGroup: [0, 2, 4] });
    expect(gridPosition(5, 2, 3)).toEqual({ rank: 5, tpRank: 1, dpRank: 2, tpGroup: [4, 5], dpGroup: [1, 3, 5] });
    expect(() => gridPosition(6, 2, 3)).toThrow(/rank 6 is outside the 3 x 2 grid/);
  });

  it('each rank all-reduces with its TP group and with its DP group (ranks in one thread)', async () => {
    const grid = createGridThreadGroups(2, 2);
    const cs = grid.handles.map((h) => gridThreadCollectives(h));
    // rank r contributes 10^r: a sum names exactly the ranks that took part
    const tpSums = cs.map((_, r) => new Float32Array([10 ** r]));
    const dpSums = cs.map((_, r) => new Float32Array([10 ** r]));
    await Promise.all(cs.flatMap((c, r) => [c.tp.allReduce(tpSums[r]!), c.dp.allReduce(dpSums[r]!)]));
    expect(tpSums.map((a) => a[0])).toEqual([11, 11, 1100, 1100]);
    expect(dpSums.map((a) => a[0])).toEqual([101, 1010, 101, 1010]);
    await Promise.all(cs.flatMap((c) => [c.tp.close(), c.dp.close()]));
  });
});
