// Per-trial random streams: a trial's draws come from a generator seeded by (sampler seed, trial
// number, parameter name), so its params do not depend on which trials finished first or on the
// order of the keys in the space file.
import { Rng } from '../runtime/rng.ts';

/** 32-bit FNV-1a of a string, to fold a parameter name into a seed. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit mix (murmur3 finaliser) so that nearby inputs give unrelated outputs. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The generator for trial `number` of a sampler seeded `seed`, for the stream named `stream`. */
export function trialRng(seed: number, number: number, stream: string): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`tune: the sampler seed must be a safe integer, got ${seed}`);
  if (!Number.isSafeInteger(number) || number < 0)
    throw new RangeError(`tune: the trial number must be a non-negative integer, got ${number}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 0x1_0000_0000) >>> 0;
  const a = mix(lo ^ mix(hi + 0x27d4eb2f) ^ mix(fnv1a(stream) + 0x165667b1));
  const b = mix((number >>> 0) ^ mix(Math.floor(number / 0x1_0000_0000) + 0x9e3779b9) ^ a);
  // 53 bits from the two words: a safe integer for Rng's constructor
  return new Rng((a & 0x1fffff) * 0x1_0000_0000 + b);
}

/** numpy's rounding: halves go to the even neighbour (np.round), which Optuna's int params use. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
