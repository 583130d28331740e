// policyReport with tiny random GPTs (GPT-2's vocabulary): the samples are the prompt-seeded ones
// generateTokens draws, each reward is the reward model's score of that row alone, and each KL is the
// sum over the drawn tokens (end-of-text included when the sample stopped on it) of log pi - log ref,
// computed here token by token from nextTokenLogits and a float64 log-softmax; a policy against itself
// has KL 0; scoreEos and the seed change what is scored and drawn.
import * as tf from '@tensorflow/tfjs';
import { getEncoding } from 'js-tiktoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { meanOf, policyReport } from '../../../operators/posttrain/policy-report.ts';
import { promptSeed } from '../../../operators/posttrain/rejection-sample.ts';
import { initBackend } from '../../../src/nn/backend/backend.ts';
import { gptConfig } from '../../../src/nn/model/config.ts';
import { Gpt } from '../../../src/nn/model/gpt.ts';
import { generateTokens } from '../../../src/nn/model/sample.ts';
import { ScalarHead } from '../../../src/nn/model/scalar-head.ts';
import { rewardScores } from '../../../src/nn/objective/reward.ts';
import { Rng } from '../../../src/runtime/rng.ts';

const cfg = gptConfig({ vocabSize: 50257, contextLength: 32, nLayer: 1, nHead: 2, dModel: 16 });
const gpt2 = getEncoding('gpt2');
const EOT = 50256;
const PROMPTS = ['Subject: lunch on Friday\n', 'Hi all,\n'];
const O = { encoding: 'gpt2', samples: 3, maxTokens: 6, temperature: 1, seed: 7, scoreEos: true };

let policy: Gpt, reference: Gpt, rm: Gpt, head: ScalarHead;
beforeAll(async () => {
  await initBackend({ announce: false });
  policy = Gpt.create(cfg, { seed: 1 });
  reference = Gpt.create(cfg, { seed: 2 });
  rm = Gpt.create(cfg, { seed: 3 });
  head = new ScalarHead(16, { kind: 'reward_head', seed: 4, std: 1 });
});

/** Sum of log p(token) over `drawn` after `prompt`, one forward per token, log-softmax in float64. */
function logprob(model: Gpt, prompt: number[], drawn: number[]): number {
  let total = 0;
  const ids = [...prompt];
  for (const t of drawn) {
    const logits = model.nextTokenLogits({ ids: Int32Array.from(ids), batch: 1, seqLen: ids.length });
    const v = logits.dataSync() as Float32Array;
    logits.dispose();
    let max = -Infinity;
    for (const x of v) max = Math.max(max, x);
    let z = 0;
    for (const x of v) z += Math.exp(x - max);
    total += v[t]! - max - Math.log(z);
    ids.push(t);
  }
  return total;
}

describe('policyReport', () => {
  it('rewards and KL of the seeded samples, checked token by token', () => {
    const gens = policyReport(policy, reference, { model: rm, head }, PROMPTS, O);
    expect(gens).toHaveLength(PROMPTS.length * O.samples);
    for (const prompt of PROMPTS) {
      const ids = gpt2.encode(prompt, [], []);
      const rng = new Rng(promptSeed(O.seed, prompt));
      const mine = gens.filter((g) => g.prompt === prompt);
      for (let k = 0; k < O.samples; k++) {
        const s = generateTokens(policy, ids, { ...O, stopToken: EOT }, rng);
        expect(mine[k]!.response).toBe(gpt2.decode(s));
        const row = [...ids, ...s, EOT];
        const r = rewardScores(
          rm,
          head,
          { ids: Int32Array.from(row), batch: 1, seqLen: row.length },
          Int32Array.of(row.length - 1),
        );
        expect(mine[k]!.reward).toBeCloseTo(r.dataSync()[0]!, 4);
        r.dispose();
        const drawn = s.length < O.maxTokens ? [...s, EOT] : s;
        expect(mine[k]!.tokens).toBe(drawn.length);
        const kl = logprob(policy, ids, drawn) - logprob(reference, ids, drawn);
        expect(Math.abs(mine[k]!.kl - kl)).toBeLessThan(1e-3 * Math.max(1, Math.abs(kl)));
      }
    }
    expect(meanOf(gens, (g) => g.reward)).toBeCloseTo(gens.reduce((a, g) => a + g.reward, 0) / gens.length, 12);
  }, 60_000);

  it('a policy against itself has KL 0; scoreEos and the seed change the scores and samples', () => {
    const self = policyReport(policy, policy, { model: rm, head }, PROMPTS, O);
    for (const g of self) expect(g.kl).toBe(0);
    const noEos = policyReport(policy, policy, { model: rm, head }, PROMPTS, { ...O, scoreEos: false });
    expect(noEos.map((g) => g.response)).toEqual(self.map((g) => g.response));
    expect(noEos.map((g) => g.reward)).not.toEqual(self.map((g) => g.reward));
    const reseeded = policyReport(policy, policy, { model: rm, head }, PROMPTS, { ...O, seed: 8 });
    expect(reseeded.map((g) => g.response)).not.toEqual(self.map((g) => g.response));
    expect(tf.memory().numTensors).toBeLessThan(200);
  }, 60_000);
});
