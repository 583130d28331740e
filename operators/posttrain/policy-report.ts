// What an aligned policy's generations look like to the judges: for each prompt, `samples` seeded
// continuations of the policy, each scored by the reward model (as PPO and best-of-n score: prompt +
// response [+ end-of-text], at the last token) and given its sequence KL estimate against a reference
// (the sum over the response tokens of log pi(a) - log ref(a): under samples from pi its mean is
// KL(pi || ref) of the responses). A separate judge (e.g. a ham/spam classifier) reads the texts, so
// a policy that games the reward model shows a reward rise the judge does not share.
import * as tf from '@tensorflow/tfjs';
import { getEncoding } from 'js-tiktoken';
import { tiktokenName } from '../../src/nn/checkpoint/load-model.ts';
import type { Gpt } from '../../src/nn/model/gpt.ts';
import { generateTokens } from '../../src/nn/model/sample.ts';
import type { ScalarHead } from '../../src/nn/model/scalar-head.ts';
import { sequenceLogprobsValue } from '../../src/nn/objective/sequence-logprobs.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { promptSeed, scoreRows } from './rejection-sample.ts';

export interface PolicyReportOptions {
  encoding: string;
  /** continuations per prompt */
  samples: number;
  maxTokens: number;
  temperature: number;
  seed: number;
  /** the scored row ends with end-of-text, as pair-pack's training rows do */
  scoreEos: boolean;
}

export interface Generation {
  prompt: string;
  response: string;
  reward: number;
  /** log pi(response) - log ref(response), summed over the response tokens (nats) */
  kl: number;
  tokens: number;
}

/** Log-probabilities (summed per row) of each response given its prompt under `model`. */
function responseLogprobs(model: Gpt, prompt: readonly number[], responses: readonly number[][]): Float64Array {
  const ctx = model.maxSeqLen();
  const rows = responses.map((r) => [...prompt, ...r].slice(-(ctx + 1)));
  const width = Math.max(...rows.map((r) => r.length));
  const inputIds = new Int32Array(rows.length * width);
  const attentionMask = new Uint8Array(rows.length * width);
  const responseMask = new Uint8Array(rows.length * width);
  rows.forEach((r, b) => {
    inputIds.set(r, b * width);
    attentionMask.fill(1, b * width, b * width + r.length);
    responseMask.fill(1, b * width + r.length - responses[b]!.length, b * width + r.length);
  });
  const batch = { inputIds, attentionMask, batch: rows.length, seqLen: width - 1 };
  return sequenceLogprobsValue(model, batch, responseMask).sums;
}

/** The policy's seeded samples for every prompt with their rewards and KL to `reference`. */
export function policyReport(
  policy: Gpt,
  reference: Gpt,
  reward: { model: Gpt; head: ScalarHead },
  prompts: readonly string[],
  o: PolicyReportOptions,
): Generation[] {
  const enc = getEncoding(tiktokenName(o.encoding));
  const eot = enc.encode('<|endoftext|>', 'all')[0]!;
  const out: Generation[] = [];
  for (const prompt of prompts) {
    const ids = prompt === '' ? [eot] : enc.encode(prompt, [], []);
    // the prompt's own seed: every policy is sampled with the same random numbers for a prompt
    const rng = new Rng(promptSeed(o.seed, prompt));
    const gen = { maxTokens: o.maxTokens, temperature: o.temperature, stopToken: eot };
    const samples = Array.from({ length: o.samples }, () => generateTokens(policy, ids, gen, rng));
    // the KL counts the tokens the policy drew: its end-of-text too when it stopped on one
    const drawn = samples.map((s) => (s.length < o.maxTokens ? [...s, eot] : s));
    const scored = samples.map((s) => [...ids, ...s, ...(o.scoreEos ? [eot] : [])]);
    const rewards = tf.tidy(() => scoreRows(reward.model, reward.head, scored));
    const lpPolicy = responseLogprobs(policy, ids, drawn);
    const lpRef = responseLogprobs(reference, ids, drawn);
    samples.forEach((s, k) => {
      out.push({
        prompt,
        response: enc.decode(s),
        reward: rewards[k]!,
        kl: lpPolicy[k]! - lpRef[k]!,
        tokens: drawn[k]!.length,
      });
    });
  }
  return out;
}

/** Mean of a field over generations. */
export const meanOf = (gens: readonly Generation[], f: (g: Generation) => number): number =>
  gens.reduce((s, g) => s + f(g), 0) / gens.length;
