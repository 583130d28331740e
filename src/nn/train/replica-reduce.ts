// The two reductions a data-parallel step needs besides the optimizer's own: the mean of the flat
// gradient, in buckets (a ring all-reduce per bucket, so a transport can start on one while the next
// is prepared), and numbers every rank must agree on exactly (losses, token counts), gathered as
// float64 bits rather than summed in float32, so the global loss is the float64 mean of the ranks'.
// The gradient may travel as bf16 (trainer.allReduceDtype; src/runtime/collectives/bf16-wire.ts): half
// the bytes, sums still float32, every rank still bit-identical.
import type { WireDtype } from '../../runtime/collectives/bf16-wire.ts';
import { shardRange, type Collective } from '../../runtime/collectives/collective.ts';

/** flat gradient elements per all-reduce bucket (4 MiB of float32) */
export const BUCKET_ELEMS = 1 << 20;

/** The [start, end) ranges of `total` elements cut into buckets of `bucketElems`. */
export function buckets(total: number, bucketElems = BUCKET_ELEMS): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < total; s += bucketElems) out.push([s, Math.min(total, s + bucketElems)]);
  return out;
}

/** In place: every rank ends with the elementwise mean over ranks, bucket by bucket, sent as `wire`. */
export async function allReduceMean(
  c: Collective,
  flat: Float32Array,
  bucketElems = BUCKET_ELEMS,
  wire: WireDtype = 'f32',
): Promise<void> {
  if (c.worldSize === 1) return;
  for (const [s, e] of buckets(flat.length, bucketElems)) await c.allReduce(flat.subarray(s, e), 'mean', { wire });
}

const WORDS = 4; // a float64 as four 16-bit integers, each exact in float32

/** Every rank's `values` (same length on every rank), exactly, indexed by rank. */
export async function gatherNumbers(c: Collective, values: readonly number[]): Promise<number[][]> {
  if (c.worldSize === 1) return [[...values]];
  const per = values.length * WORDS;
  const all = new Float32Array(per * c.worldSize);
  const [start, end] = shardRange(all.length, c.rank, c.worldSize);
  if (start !== c.rank * per || end - start !== per)
    throw new Error(`gatherNumbers: shard [${start}, ${end}) of rank ${c.rank} is not its ${per} words`);
  const bytes = new DataView(new ArrayBuffer(8));
  values.forEach((v, i) => {
    bytes.setFloat64(0, v);
    for (let w = 0; w < WORDS; w++) all[start + i * WORDS + w] = bytes.getUint16(w * 2);
  });
  await c.allGather(all);
  return Array.from({ length: c.worldSize }, (_, r) =>
    values.map((_, i) => {
      for (let w = 0; w < WORDS; w++) bytes.setUint16(w * 2, all[r * per + i * WORDS + w]!);
      return bytes.getFloat64(0);
    }),
  );
}

/** The float64 mean of the ranks' losses and the global token count (collective), with `g`'s flat
 * gradient as it is. */
export async function meanLossAndTokens<G extends { loss: number; tokens: number }>(c: Collective, g: G): Promise<G> {
  if (c.worldSize === 1) return g;
  const all = await gatherNumbers(c, [g.loss, g.tokens]);
  let loss = 0;
  let tokens = 0;
  for (const [l, t] of all) {
    loss += l!;
    tokens += t!;
  }
  return { ...g, loss: loss / c.worldSize, tokens };
}

/** Whether any rank says yes (a stop request reaches one rank; all must stop after the same step). */
export async function anyRank(c: Collective, flag: boolean): Promise<boolean> {
  if (c.worldSize === 1) return flag;
  const a = new Float32Array([flag ? 1 : 0]);
  await c.allReduce(a, 'sum');
  return a[0]! > 0;
}
