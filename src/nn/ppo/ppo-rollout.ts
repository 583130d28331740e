// A PPO iteration's rollout quantities (TRL's PPOTrainer: generate, then batched_forward_pass of the
// policy with its value head and of the reference). Rows are prompt + response, right-padded into one
// packed batch; causal attention keeps padding out of every real position. Response token j of row b
// sits at row index P_b + j and is predicted at position P_b + j - 1: its log-prob and the value of the
// state before it come from that position. Per-token arrays are row-major [batch, T] over response
// tokens (T the longest response), 0 off the mask.
import * as tf from '@tensorflow/tfjs';
import type { Gpt } from '../model/gpt.ts';
import { generateTokens } from '../model/sample.ts';
import type { ScalarHead } from '../model/scalar-head.ts';
import { inputsOf, type PackedBatch } from '../objective/loss.ts';
import { logprobsFromHidden } from '../objective/sequence-logprobs.ts';
import type { Rng } from '../../runtime/rng.ts';

export interface SampleSettings {
  maxTokens: number;
  temperature: number;
  topK: number;
  /** end-of-text: a response drawing it ends there and keeps it as its last token */
  eos?: number;
}

/** One response per prompt, prompt i's drawn from `rngOf(i)` (its own generator: a response does not
 * depend on which rank or batch draws it); never empty (a drawn end-of-text is kept). */
export function sampleResponses(
  policy: Gpt,
  prompts: readonly number[][],
  o: SampleSettings,
  rngOf: (i: number) => Rng,
): number[][] {
  return prompts.map((p, i) => {
    const r = generateTokens(policy, p, { ...o, stopToken: o.eos }, rngOf(i));
    // fewer tokens than asked: generation stopped at end-of-text
    if (o.eos !== undefined && r.length < o.maxTokens) r.push(o.eos);
    return r;
  });
}

/** Prompt + response rows, right-padded: the packed batch, its response mask, and the [batch, T]
 * gather index into [batch * seqLen] positions (padding points at position 0, masked off). */
export interface RolloutLayout {
  rows: PackedBatch;
  responseMask: Float32Array;
  /** T: the longest response */
  t: number;
  /** [batch, T]: 1 on response tokens */
  mask: Float32Array;
  index: Int32Array;
}

export function rolloutLayout(
  prompts: readonly number[][],
  responses: readonly number[][],
  context: number,
): RolloutLayout {
  if (prompts.length !== responses.length)
    throw new Error(`rolloutLayout: ${prompts.length} prompts but ${responses.length} responses`);
  const batch = prompts.length;
  const width = Math.max(...prompts.map((p, b) => p.length + responses[b]!.length));
  if (width - 1 > context)
    throw new Error(
      `rolloutLayout: a prompt + response of ${width} tokens exceeds the model's context ${context} + 1; shorten ` +
        `prompts or maxTokens`,
    );
  const t = Math.max(...responses.map((r) => r.length));
  const inputIds = new Int32Array(batch * width);
  const responseMask = new Float32Array(batch * width);
  const mask = new Float32Array(batch * t);
  const index = new Int32Array(batch * t);
  const seqLen = width - 1;
  prompts.forEach((p, b) => {
    const r = responses[b]!;
    if (p.length === 0) throw new Error(`rolloutLayout: prompt ${b} has no tokens`);
    if (r.length === 0) throw new Error(`rolloutLayout: response ${b} has no tokens`);
    inputIds.set(p, b * width);
    inputIds.set(r, b * width + p.length);
    responseMask.fill(1, b * width + p.length, b * width + p.length + r.length);
    for (let j = 0; j < r.length; j++) {
      mask[b * t + j] = 1;
      index[b * t + j] = b * seqLen + p.length + j - 1;
    }
  });
  return { rows: { inputIds, batch, seqLen }, responseMask, t, mask, index };
}

export interface ResponseTensors {
  /** [batch * T] log p of each response token (0 off the mask) */
  logprobs: tf.Tensor1D;
  /** [batch * T] the value head's prediction before each response token, when a head is given */
  values?: tf.Tensor1D;
  /** [batch * T] entropy of the policy's distribution at each response token */
  entropy?: tf.Tensor1D;
}

/** Differentiable (call inside tf.variableGrads or tf.tidy): one forward of `model`, its log-probs,
 * entropy and (with a head) values at the response tokens. */
export function responseTensors(
  model: Gpt,
  layout: RolloutLayout,
  o: { head?: ScalarHead; entropy?: boolean } = {},
): ResponseTensors {
  const h = model.hidden(inputsOf(layout.rows));
  const lp = logprobsFromHidden(h, model.headMatrix(), layout.rows, layout.responseMask, { entropy: o.entropy });
  const idx = tf.tensor1d(layout.index, 'int32');
  const pick = (x: tf.Tensor) => tf.gather(x.reshape([-1]), idx) as tf.Tensor1D;
  const masked = (x: tf.Tensor1D) => tf.mul(x, tf.tensor1d(layout.mask)) as tf.Tensor1D;
  return {
    logprobs: masked(pick(lp.tokens)),
    values: o.head ? masked(pick(o.head.values(h))) : undefined,
    entropy: lp.entropy ? masked(pick(lp.entropy)) : undefined,
  };
}

export interface ResponseValues {
  logprobs: Float32Array;
  values?: Float32Array;
  entropy?: Float32Array;
}

/** The same as numbers, no gradients. */
export function responseValues(
  model: Gpt,
  layout: RolloutLayout,
  o: { head?: ScalarHead; entropy?: boolean } = {},
): ResponseValues {
  const out = tf.tidy(() => {
    const r = responseTensors(model, layout, o);
    return [r.logprobs, r.values, r.entropy] as const;
  });
  const read = (x: tf.Tensor | undefined) => (x ? Float32Array.from(x.dataSync() as Float32Array) : undefined);
  const res = { logprobs: read(out[0])!, values: read(out[1]), entropy: read(out[2]) };
  tf.dispose(out.filter((x): x is tf.Tensor1D => x !== undefined));
  return res;
}

/** Row b's first n entries of a [batch, T] array. */
export const rowOf = (a: Float32Array | Float64Array, b: number, t: number, n: number) => a.slice(b * t, b * t + n);

/** Per-row arrays laid into [batch, T], 0 beyond each row's length. */
export function padRows(rows: readonly ArrayLike<number>[], t: number): Float64Array {
  const out = new Float64Array(rows.length * t);
  rows.forEach((r, b) => {
    if (r.length > t) throw new Error(`padRows: row ${b} has ${r.length} values, more than T ${t}`);
    for (let j = 0; j < r.length; j++) out[b * t + j] = r[j]!;
  });
  return out;
}
