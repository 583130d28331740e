// PPO rollouts: each prompt's response sampled from the policy (temperature, top-k, maxTokens, ending
// at end-of-text when stopAtEos), each from its own generator seeded by (seed, iteration, the rollout's
// index in the iteration's batch): a resumed run draws the same, and so does any rank that draws it;
// then one forward of the policy with its value head and one of the frozen reference over the
// prompt + response rows: per response token the old log-prob, the reference log-prob and the value.
// Data parallel: each rank rolls out its share of the iteration's prompts.
import { Field, Schema, type RecordBatch, type Float32, type Int32, type List } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { rolloutSeed } from '../../src/nn/ppo/ppo-dist.ts';
import { responseValues, rolloutLayout, rowOf, sampleResponses } from '../../src/nn/ppo/ppo-rollout.ts';
import { Rng } from '../../src/runtime/rng.ts';
import { withColumns } from '../../src/schema/index.ts';
import { f32List, idRows, intList } from './ppo-columns.ts';
import { eosOf, ppoField, ppoStage } from './ppo-field.ts';
import type { PpoPrompt } from './ppo-prompts.ts';

export type PpoRollout = {
  response_ids: List<Int32>;
  logprobs: List<Float32>;
  ref_logprobs: List<Float32>;
  values: List<Float32>;
};

type In = Pick<PpoPrompt, 'prompt_ids'>;

export const ppoRollout = defineOperator({
  id: 'posttrain/ppo-rollout',
  description:
    "sample each prompt's response from the policy (seeded per rollout); old log-probs, reference log-probs " +
    "and values per response token; each rank its share of the iteration's prompts",
  config: z.object({ ppo: ppoField }),
  placement: 'replica',
  input: () => new Schema<In>([]),
  passthrough: true,
  output: () =>
    new Schema<PpoRollout>([
      new Field('response_ids', intList(), false),
      ...['logprobs', 'ref_logprobs', 'values'].map((n) => new Field(n, f32List(), false)),
    ]),
  make: (cfg, ctx) => {
    const stage = ppoStage(ctx, cfg.ppo);
    return mapBatch(
      async (batch: RecordBatch<In>) => {
        const { state, meta } = await stage(batch);
        const c = state.cfg;
        const prompts = idRows(batch, 'prompt_ids', ctx.nodeId);
        const eos = c.stopAtEos ? eosOf(state.encoding) : undefined;
        const first = state.share.start;
        const responses = sampleResponses(
          state.policy,
          prompts,
          { ...c, eos },
          (i) => new Rng(rolloutSeed(c.seed, meta.iteration, first + i)),
        );
        const layout = rolloutLayout(prompts, responses, state.policy.config.contextLength);
        const pol = responseValues(state.policy, layout, { head: state.valueHead });
        const ref = responseValues(state.reference, layout);
        const rows = (a: Float32Array) => responses.map((r, b) => rowOf(a, b, layout.t, r.length) as Float32Array);
        ctx.stats.count('responses', responses.length);
        return withColumns(
          batch,
          {
            response_ids: responses.map((r) => Int32Array.from(r)),
            logprobs: rows(pol.logprobs),
            ref_logprobs: rows(ref.logprobs),
            values: rows(pol.values!),
          },
          { response_ids: intList(), logprobs: f32List(), ref_logprobs: f32List(), values: f32List() },
        ) as unknown as RecordBatch<PpoRollout>;
      },
      { ctx },
    );
  },
});
