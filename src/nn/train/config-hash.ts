// The hash of what shapes a run's trajectory (train-config.ts's fields, minus where files go and how
// often they are written): every checkpoint records it, and a resume under another hash is refused.
import { createHash } from 'node:crypto';
import { modelConfigOf, type TrainConfig } from './train-config.ts';

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Hash of what shapes the trajectory: not where files go, nor how often they are written or the
 * model evaluated, nor how the optimizer state is laid out (`zero`), none of which changes a single
 * loss. Data parallelism is elastic: world size W with accumulation A is the run of world size 1 with
 * accumulation W*A, so `gradAccum` enters as the micro-batches of one global step (W*A) and a
 * checkpoint resumes at any world size that keeps it (at W = 1 the hash is what it always was). */
export function configHash(c: TrainConfig, worldSize = 1): string {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new RangeError(`configHash: worldSize must be an integer >= 1, got ${worldSize}`);
  const {
    runDir: _r,
    evalEvery: _e,
    evalBatches: _b,
    checkpointEvery: _c,
    keepLast: _k,
    zero: _z,
    checkpointDtype: _cd,
    allReduceDtype,
    overlapComm: _oc,
    offload: _of,
    offloadDir: _od,
    data,
    objective,
    masking,
    reward,
    dpo,
    init,
    ...rest
  } = c;
  // Fields added after checkpoints were first written enter only when they change the run, so a
  // config that leaves them at the old behaviour keeps its hash (and its checkpoints resume).
  // init.from enters as written: a resumed run never reads it again, and the run it names may
  // have moved on since (a run directory's latest checkpoint).
  // checkpointDtype never enters: an uninterrupted run is the same whatever its checkpoints store (a
  // resume from rounded weights is approximate by choice; see its description). allReduceDtype bf16
  // changes every gradient, so it enters, and 'f32' keeps the hash it had before the option existed.
  // offload never enters: the moments are the same numbers wherever they are kept.
  // overlapComm never enters: the gradients are those without it (bit for bit up to 2 ranks, to float
  // rounding from 3), so a run may resume with it switched either way.
  // activationCheckpointing never enters: it changes memory and time, not one number of the run, so a
  // run may resume with it switched either way
  const { activation, attnDropout, activationCheckpointing: _ac, ...model } = modelConfigOf(c);
  const shaping = {
    ...rest,
    gradAccum: c.gradAccum * worldSize,
    model: {
      ...model,
      ...(activation === 'gelu' ? {} : { activation }),
      ...(attnDropout === 0 ? {} : { attnDropout }),
    },
    data: { holdoutRows: data.holdoutRows, seqLen: data.seqLen, shuffle: data.shuffle },
    ...(objective === 'causal' ? {} : objective === 'masked' ? { objective, masking } : {}),
    ...(objective === 'reward' ? { objective, reward } : objective === 'dpo' ? { objective, dpo } : {}),
    ...(init.from === undefined ? {} : { init: { from: init.from } }),
    ...(allReduceDtype === 'f32' ? {} : { allReduceDtype }),
  };
  return createHash('sha256').update(canonical(shaping)).digest('hex').slice(0, 16);
}
