// A data-parallel rank's forward, backward and gradient all-reduce with the all-reduce overlapping
// the backward (trainer overlapComm, issue 15 item 2): micro-batches before the last run as always
// (gradsInto: nothing is final until the last one is added), the last one runs piecewise
// (overlap-grads.ts), and each bucket of the flat gradient goes to the collective as soon as its
// parameters are final (overlap-reduce.ts). Between pieces the thread yields, which is when the
// collective (and, in one thread, the other ranks) make progress. The numbers are those of
// forwardBackward then allReduceMean: the same arithmetic per element; the buckets are cut otherwise,
// which is bit for bit the same up to world size 2 (overlap-reduce.ts says why).
import type { WireDtype } from '../../runtime/collectives/bf16-wire.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import type { Rng } from '../../runtime/rng.ts';
import type { HeadTuning } from '../head/head-loss.ts';
import type { Gpt } from '../model/gpt.ts';
import type { PackedBatch } from '../objective/loss.ts';
import type { FlatLayout } from '../optim/flat-layout.ts';
import { pieceIndex, piecewiseGradsInto, piecewiseRefusal } from './overlap-grads.ts';
import { BucketReducer, type OverlapEvent } from './overlap-reduce.ts';
import { gradsInto, type Objective } from './train-step.ts';

export interface OverlapStepOptions {
  objective: Objective;
  /** the generator of this rank's k-th micro-batch */
  rngOf: (k: number) => Rng;
  head?: HeadTuning;
  wire?: WireDtype;
  bucketElems?: number;
  /** after each piece, at most this long giving the started all-reduces turns (default DRAIN_MS) */
  drainMs?: number;
  trace?: (e: OverlapEvent) => void;
}

/** The collectives move only while the thread yields, a message or so per turn: after each piece
 * the thread keeps yielding while buckets are in flight, up to this long (the peers reach the same
 * piece at about the same time, so their messages are near). */
export const DRAIN_MS = 5;

/** Why overlapComm cannot run this model and objective (undefined: it can). */
export function overlapRefusal(model: Gpt, objective: Objective): string | undefined {
  if (!('kind' in objective) || objective.kind !== 'autoregressive')
    return 'only the causal (next-token) objective is supported';
  const why = piecewiseRefusal(model.config);
  return why && `the piecewise backward does not support ${why}`;
}

/** This rank's mean loss and tokens over `micro`, and `flat` (model layout) holding the mean gradient
 * over micro-batches and ranks: every rank calls it for the same step. */
export async function overlappedForwardBackward(
  model: Gpt,
  layout: FlatLayout,
  c: Collective,
  micro: readonly PackedBatch[],
  o: OverlapStepOptions,
): Promise<{ loss: number; tokens: number; flat: Float32Array }> {
  if (micro.length === 0) throw new Error('overlappedForwardBackward: no micro-batches');
  const why = overlapRefusal(model, o.objective);
  if (why) throw new Error(`trainer overlapComm: ${why}; set overlapComm false for this run`);
  const flat = new Float32Array(layout.total);
  const last = micro.length - 1;
  let loss = 0;
  let tokens = 0;
  for (let k = 0; k < last; k++) {
    loss += gradsInto(model, micro[k]!, { objective: o.objective, rng: o.rngOf(k), head: o.head }, layout, flat, k > 0);
    tokens += micro[k]!.batch * micro[k]!.seqLen;
  }
  const reducer = new BucketReducer(c, layout, flat, {
    bucketElems: o.bucketElems,
    pieceOf: (name) => pieceIndex(model.config, name),
    wire: o.wire,
    scale: micro.length > 1 ? 1 / micro.length : 1,
    trace: o.trace,
  });
  const b = micro[last]!;
  const objective = o.objective as { labelSmoothing?: number };
  // a failing piece leaves started buckets to the caller, which aborts the collective (peers wait)
  loss += await piecewiseGradsInto(
    model,
    b,
    {
      labelSmoothing: objective.labelSmoothing,
      rng: o.rngOf(last),
      head: o.head,
      onFinal: async (names, piece) => {
        o.trace?.({ kind: 'piece', what: piece, t: performance.now() });
        reducer.markFinal(names);
        if (c.worldSize > 1) await reducer.drain(o.drainMs ?? DRAIN_MS);
      },
    },
    layout,
    flat,
    last > 0,
  );
  await reducer.done();
  tokens += b.batch * b.seqLen;
  // as forwardBackward: times the reciprocal, not divided
  return { loss: loss * (1 / micro.length), tokens, flat };
}
