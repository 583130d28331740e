// The settings of a PPO run (the `posttrain/ppo` resource), with TRL's PPOConfig defaults where it has
// one: models (policy, optional reference, reward model), rollout sampling, the KL penalty (fixed or
// adaptive), GAE, the clipped update, AdamW, iterations and checkpoints.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { loraConfigSchema } from '../adapters/lora-config.ts';

export const ppoConfigSchema = z
  .object({
    policy: z.string().min(1).describe('checkpoint of the starting policy (a step directory or a run directory)'),
    reference: z
      .string()
      .min(1)
      .optional()
      .describe('checkpoint of the frozen reference model; default: the starting policy'),
    reward: z.string().min(1).describe('reward model: a Gpt checkpoint with score.arrow (reward-model-file.ts)'),
    lora: loraConfigSchema
      .optional()
      .describe('train LoRA adapters on the policy (base frozen) instead of the whole policy'),
    runDir: z.string().min(1).describe('where checkpoints (and the metrics log) go'),
    iterations: z.number().int().min(1).describe('PPO iterations (rollout + update) in all'),
    batchSize: z.number().int().min(1).default(8).describe('prompts (rollouts) per iteration'),
    miniBatchSize: z.number().int().min(1).default(4).describe('rollouts per gradient step of the update'),
    ppoEpochs: z.number().int().min(1).default(4).describe("passes over each iteration's rollouts"),
    maxTokens: z.number().int().min(1).default(16).describe('new tokens per response at most'),
    temperature: z.number().gt(0).default(1).describe('sampling temperature of the rollouts'),
    topK: z.number().int().min(0).default(0).describe('sample from the k most likely tokens (0: all)'),
    stopAtEos: z
      .boolean()
      .default(true)
      .describe('a response ends at end-of-text (kept as its last token); false: always maxTokens tokens'),
    klCoef: z.number().min(0).default(0.2).describe('initial KL penalty coefficient (TRL init_kl_coef)'),
    klTarget: z
      .number()
      .positive()
      .optional()
      .describe('adaptive KL: the per-rollout KL the coefficient is steered toward (unset: fixed coefficient)'),
    klHorizon: z.number().positive().default(10000).describe('adaptive KL horizon (TRL horizon)'),
    klPenalty: z.enum(['kl', 'abs', 'mse']).default('kl').describe('per-token KL estimate (ppo.ts klEstimate)'),
    gamma: z.number().min(0).max(1).default(1).describe('discount of GAE'),
    lambda: z.number().min(0).max(1).default(0.95).describe('GAE lambda'),
    whiten: z.boolean().default(true).describe("whiten the advantages over the iteration's tokens"),
    cliprange: z.number().positive().default(0.2).describe('policy ratio clip epsilon'),
    cliprangeValue: z.number().positive().default(0.2).describe('value clip range around the rollout values'),
    vfCoef: z.number().min(0).default(0.1).describe('weight of the value loss'),
    scoreEos: z
      .boolean()
      .default(true)
      .describe('the reward model scores prompt + response ending with end-of-text (as pair-pack rows end)'),
    lr: z.number().positive().default(1.41e-5).describe('AdamW learning rate (constant)'),
    weightDecay: z.number().min(0).default(0).describe('AdamW decoupled weight decay'),
    beta1: z.number().min(0).lt(1).default(0.9).describe("AdamW's first-moment decay"),
    beta2: z.number().min(0).lt(1).default(0.95).describe("AdamW's second-moment decay"),
    clipNorm: z.number().min(0).default(1).describe('clip the global gradient norm to this (0: off)'),
    seed: z.number().int().default(0).describe('seeds sampling, minibatch order and a fresh value head'),
    checkpointEvery: z.number().int().min(0).default(10).describe('iterations between checkpoints (0: only the last)'),
    keepLast: z.number().int().min(1).default(3).describe('checkpoints kept'),
  })
  .strict()
  .refine((c) => c.miniBatchSize <= c.batchSize, {
    message: 'miniBatchSize must be at most batchSize (the rollouts of an iteration)',
    path: ['miniBatchSize'],
  });

export type PpoConfigInput = z.input<typeof ppoConfigSchema>;
export type PpoConfig = z.output<typeof ppoConfigSchema>;

/** Hash of what shapes the run's numbers: a resumed run refuses another. Iterations and checkpoint
 * cadence may change on resume. */
export function ppoConfigHash(c: PpoConfig): string {
  const { iterations: _i, checkpointEvery: _c, keepLast: _k, runDir: _r, ...shaping } = c;
  return createHash('sha256').update(JSON.stringify(shaping)).digest('hex');
}
