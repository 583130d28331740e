// Where a PPO rank stands in a data-parallel run, and the reductions that make world size W compute
// what world size 1 does: each rank rolls out a contiguous share of the iteration's prompts; numbers
// every rank must agree on (sums for whitening, metrics, token counts) are gathered exactly as float64
// and added in rank order, so every rank gets the same value and world 1 gets its own sum unchanged;
// gradients are summed over ranks in float32 buckets (ring all-reduce: bit-identical on every rank).
import { createHash } from 'node:crypto';
import { localCollective, type Collective } from '../../runtime/collectives/collective.ts';
import { buckets, gatherNumbers } from '../train/replica-reduce.ts';

export interface PpoDist {
  rank: number;
  worldSize: number;
  collective: Collective;
}

export const soloDist = (): PpoDist => ({ rank: 0, worldSize: 1, collective: localCollective() });

/** This rank's [start, start + count) of an iteration's batchSize rollouts. */
export function rolloutShare(batchSize: number, d: { rank: number; worldSize: number }) {
  if (batchSize % d.worldSize !== 0)
    throw new Error(
      `posttrain/ppo: batchSize ${batchSize} does not split over ${d.worldSize} ranks; make batchSize a multiple ` +
        `of the number of devices`,
    );
  const count = batchSize / d.worldSize;
  return { start: d.rank * count, count };
}

/** The seed of one rollout's sampling: a function of the run's seed, the iteration and the rollout's
 * index in the iteration's batch, never of the rank that draws it (world W samples what world 1 does). */
export function rolloutSeed(seed: number, iteration: number, index: number): number {
  const h = createHash('sha256').update(`ppo-rollout:${seed}:${iteration}:${index}`).digest();
  // 48 bits: a safe integer
  return h.readUIntBE(0, 6);
}

/** Elementwise sum over ranks of `values` (the same length on every rank), exact float64 inputs added
 * in rank order: identical on every rank; world 1 returns its values. */
export async function sumOverRanks(c: Collective, values: readonly number[]): Promise<number[]> {
  if (c.worldSize === 1) return [...values];
  const all = await gatherNumbers(c, values);
  return values.map((_, i) => all.reduce((s, r) => s + r[i]!, 0));
}

/** In place: every rank ends with the sum over ranks of each gradient (names in `order`). */
export async function sumGradients(
  c: Collective,
  grads: Map<string, Float32Array>,
  order: readonly string[],
): Promise<void> {
  if (c.worldSize === 1) return;
  const parts = order.map((n) => {
    const g = grads.get(n);
    if (!g) throw new Error(`sumGradients: no gradient for ${n}`);
    return g;
  });
  const flat = new Float32Array(parts.reduce((s, g) => s + g.length, 0));
  let at = 0;
  for (const g of parts) {
    flat.set(g, at);
    at += g.length;
  }
  for (const [s, e] of buckets(flat.length)) await c.allReduce(flat.subarray(s, e), 'sum');
  at = 0;
  for (const g of parts) {
    g.set(flat.subarray(at, at + g.length));
    at += g.length;
  }
}

/** Token-weighted means over ranks of each rank's masked means `stats` over its `tokens` tokens, and
 * the tokens of all ranks. A rank holding every token gives its means unchanged (world 1 is not
 * rescaled). */
export async function weightedMeans(
  c: Collective,
  tokens: number,
  stats: readonly number[],
): Promise<{ tokens: number; means: number[] }> {
  if (c.worldSize === 1) return { tokens, means: [...stats] };
  const all = await gatherNumbers(c, [tokens, ...(tokens > 0 ? stats : stats.map(() => 0))]);
  const total = all.reduce((s, r) => s + r[0]!, 0);
  const holders = all.filter((r) => r[0]! > 0);
  if (holders.length === 1) return { tokens: total, means: holders[0]!.slice(1) };
  return { tokens: total, means: stats.map((_, i) => all.reduce((s, r) => s + r[0]! * r[i + 1]!, 0) / total) };
}
