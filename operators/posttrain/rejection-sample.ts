// Rejection sampling (best of n): for each prompt the policy draws n continuations and a reward model
// scores each (prompt + response) row at its last token (rewardScores); the best one is kept, with all
// n rewards. With minReward it is a safety filter for generation: a prompt whose best sample scores
// below it is dropped. Sampling is seeded per prompt (promptSeed: the seed and the prompt's text), so
// a prompt gets the same samples wherever it appears in the stream and however the input is batched.
import { createHash } from 'node:crypto';
import { Field, Float32, List, Schema, Utf8, type RecordBatch } from 'apache-arrow';
import * as tf from '@tensorflow/tfjs';
import { getEncoding } from 'js-tiktoken';
import { defer, finalize, type Observable } from 'rxjs';
import { z } from 'zod';
import { defineOperator } from '../../src/core/operator.ts';
import { operate } from '../../src/core/operate.ts';
import { initBackend } from '../../src/nn/backend/backend.ts';
import { loadModel, tiktokenName, type LoadedModel } from '../../src/nn/checkpoint/load-model.ts';
import type { Gpt } from '../../src/nn/model/gpt.ts';
import { generateTokens } from '../../src/nn/model/sample.ts';
import type { ScalarHead } from '../../src/nn/model/scalar-head.ts';
import { rewardScores } from '../../src/nn/objective/reward.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { batchFromColumns } from '../../src/schema/index.ts';
import { loadRewardModel, type LoadedRewardModel } from './reward-model-file.ts';

type PromptIn = { prompt: Utf8 };
export type BestOfN = { prompt: Utf8; response: Utf8; reward: Float32; rewards: List<Float32> };

export const bestOfNSchema = (): Schema<BestOfN> =>
  new Schema<BestOfN>([
    new Field('prompt', new Utf8(), false),
    new Field('response', new Utf8(), false),
    new Field('reward', new Float32(), false),
    new Field('rewards', new List(new Field('item', new Float32(), false)), false),
  ]);

const Config = z.object({
  policy: z.string().min(1).describe('checkpoint of the policy that samples (a step directory or a run directory)'),
  reward: z
    .string()
    .min(1)
    .describe('reward model: a Gpt checkpoint with its score head in score.arrow (reward-model-file.ts)'),
  n: z.number().int().min(1).max(1024).default(4).describe('samples per prompt'),
  maxTokens: z.number().int().min(1).default(64).describe('new tokens per sample at most (end-of-text stops one)'),
  temperature: z.number().min(0).default(1).describe('sampling temperature; 0 is greedy'),
  topK: z.number().int().min(0).default(0).describe('keep the k most likely tokens (0: all)'),
  topP: z.number().gt(0).max(1).default(1).describe('nucleus sampling: the smallest set reaching this mass (1: all)'),
  seed: z.number().int().default(0).describe('with the prompt text, seeds its samples'),
  minReward: z.number().optional().describe("drop a prompt whose best sample's reward is below this (safety filter)"),
  scoreEos: z
    .boolean()
    .default(true)
    .describe("the scored row ends with end-of-text, as pair-pack's rows do (its template's eos): keep them alike"),
});
type Cfg = z.output<typeof Config>;

/** The seed of a prompt's samples: the first 32 bits of sha256 of the seed and the prompt's text. */
export function promptSeed(seed: number, prompt: string): number {
  return createHash('sha256').update(`${seed}\n${prompt}`).digest().readUInt32LE(0);
}

/** Rewards of rows (each prompt ids + response ids [+ EOS]) in one forward pass: rows right-padded,
 * each scored at its own last token; a row longer than the model's context keeps its last tokens. */
export function scoreRows(model: Gpt, head: ScalarHead, rows: readonly number[][]): Float32Array {
  const cut = rows.map((r) => r.slice(-model.maxSeqLen()));
  const seqLen = Math.max(...cut.map((r) => r.length));
  const ids = new Int32Array(rows.length * seqLen);
  cut.forEach((r, b) => ids.set(r, b * seqLen));
  const last = Int32Array.from(cut, (r) => r.length - 1);
  const scores = rewardScores(model, head, { ids, batch: rows.length, seqLen }, last);
  const out = Float32Array.from(scores.dataSync() as Float32Array);
  scores.dispose();
  return out;
}

interface Models {
  policy: LoadedModel;
  reward: LoadedRewardModel;
}

async function openModels(cfg: Cfg, log: (line: string) => void): Promise<Models> {
  await initBackend({ announce: log });
  const policy = await loadModel(cfg.policy);
  let reward: LoadedRewardModel;
  try {
    reward = await loadRewardModel(cfg.reward);
  } catch (err) {
    policy.model.dispose();
    throw err;
  }
  if (tiktokenName(policy.encoding) !== tiktokenName(reward.encoding)) {
    policy.model.dispose();
    reward.model.dispose();
    reward.head.dispose();
    throw new Error(
      `posttrain/best-of-n: the policy (${policy.dir}) uses encoding ${policy.encoding} but the reward model ` +
        `(${reward.dir}) ${reward.encoding}; give models of one tokenizer`,
    );
  }
  log(`policy ${policy.dir} (step ${policy.step}), reward model ${reward.dir} (step ${reward.step})`);
  return { policy, reward };
}

export const bestOfN = defineOperator({
  id: 'posttrain/best-of-n',
  description:
    'rejection sampling: n seeded samples per prompt from the policy, scored by a reward model; the best kept (with ' +
    'all n rewards), prompts under minReward dropped',
  config: Config,
  input: () => new Schema<PromptIn>([new Field('prompt', new Utf8(), true)]),
  passthrough: false,
  output: () => bestOfNSchema(),
  module: import.meta.url,
  make: (cfg, ctx) => (source: Observable<RecordBatch<PromptIn>>) =>
    defer(() => {
      let models: Promise<Models> | undefined;
      const schema = bestOfNSchema();
      return source.pipe(
        operate<PromptIn, BestOfN>(
          async (batch, emit) => {
            models ??= openModels(cfg, (l) => ctx.log(l));
            const { policy, reward } = await models;
            const enc = getEncoding(tiktokenName(policy.encoding));
            const eot = enc.encode('<|endoftext|>', 'all')[0]!;
            const col = batch.getChild('prompt');
            if (!col)
              throw new Error(
                `posttrain/best-of-n: the input has no prompt column (columns: ${batch.schema.names.join(', ')}); give a Utf8 column named prompt`,
              );
            const out = {
              prompt: [] as string[],
              response: [] as string[],
              reward: [] as number[],
              rewards: [] as Float32Array[],
            };
            for (let i = 0; i < batch.numRows; i++) {
              const prompt = col.get(i) as string | null;
              if (prompt === null) {
                ctx.stats.drop('null prompt', 1);
                continue;
              }
              // an empty prompt starts from end-of-text, as flowlm generate does
              const ids = prompt === '' ? [eot] : enc.encode(prompt, [], []);
              const rng = new Rng(promptSeed(cfg.seed, prompt));
              const opts = { ...cfg, stopToken: eot };
              const samples = Array.from({ length: cfg.n }, () => generateTokens(policy.model, ids, opts, rng));
              const rows = samples.map((s) => [...ids, ...s, ...(cfg.scoreEos ? [eot] : [])]);
              const rewards = tf.tidy(() => scoreRows(reward.model, reward.head, rows));
              let best = 0;
              for (let k = 1; k < rewards.length; k++) if (rewards[k]! > rewards[best]!) best = k;
              ctx.stats.count('samples', cfg.n);
              if (cfg.minReward !== undefined && rewards[best]! < cfg.minReward) {
                ctx.stats.drop('best reward below minReward', 1);
                continue;
              }
              out.prompt.push(prompt);
              out.response.push(enc.decode(samples[best]!));
              out.reward.push(rewards[best]!);
              out.rewards.push(rewards);
            }
            if (out.prompt.length > 0)
              emit(batchFromColumns(schema, { ...out, reward: Float32Array.from(out.reward) }));
          },
          { ctx, state: 'absorb' },
        ),
        finalize(() => {
          void models?.then(
            ({ policy, reward }) => {
              policy.model.dispose();
              reward.model.dispose();
              reward.head.dispose();
            },
            () => undefined,
          );
        }),
      );
    }),
});
