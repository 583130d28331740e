// PPO's advantages for an iteration's rollouts: per-token rewards (-klCoef * KL to the reference, the
// score added at the last response token), GAE (gamma, lambda) with the rollout values, whitened over
// the iteration (src/nn/ppo/ppo-advantages.ts). The KL coefficient is the run's current one (fixed or
// adaptive); it and the rollouts' mean KL travel on in the batch's metadata. Data parallel: each rank's
// own rollouts, whitened with the mean and variance over all ranks' tokens (and the mean KL over all).
import { Field, Schema, type Float32, type Float64, type List, type RecordBatch } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { ppoAdvantages } from '../../src/nn/ppo/ppo-advantages.ts';
import { withMeta } from '../../src/nn/train/step-batches.ts';
import { withColumns } from '../../src/schema/index.ts';
import { f64List, floatColumn, listRows } from './ppo-columns.ts';
import { PPO_KEY, ppoField, ppoStage, type PpoMeta } from './ppo-field.ts';

type In = { score: Float32; logprobs: List<Float32>; ref_logprobs: List<Float32>; values: List<Float32> };
export type PpoAdvantageCols = {
  rewards: List<Float64>;
  advantages: List<Float64>;
  returns: List<Float64>;
  kl: List<Float64>;
};

export const ppoAdvantagesOp = defineOperator({
  id: 'posttrain/ppo-advantages',
  description:
    "KL-penalised per-token rewards, GAE advantages (whitened over the iteration's tokens on all ranks) and " +
    'returns of each rollout',
  config: z.object({ ppo: ppoField }),
  placement: 'replica',
  input: () => new Schema<In>([]),
  passthrough: true,
  output: () =>
    new Schema<PpoAdvantageCols>(['rewards', 'advantages', 'returns', 'kl'].map((n) => new Field(n, f64List(), false))),
  make: (cfg, ctx) => {
    const stage = ppoStage(ctx, cfg.ppo);
    return mapBatch(
      async (batch: RecordBatch<In>) => {
        const { state, meta } = await stage(batch);
        const c = state.cfg;
        const klCoef = state.kl.value;
        const a = await ppoAdvantages(
          {
            scores: floatColumn(batch, 'score', ctx.nodeId),
            logprobs: listRows(batch, 'logprobs', ctx.nodeId),
            refLogprobs: listRows(batch, 'ref_logprobs', ctx.nodeId),
            values: listRows(batch, 'values', ctx.nodeId),
          },
          { klCoef, klPenalty: c.klPenalty, gamma: c.gamma, lambda: c.lambda, whiten: c.whiten },
          { collective: state.dist.collective, batchSize: c.batchSize },
        );
        const out = withColumns(
          batch,
          { rewards: a.rewards, advantages: a.advantages, returns: a.returns, kl: a.kl },
          { rewards: f64List(), advantages: f64List(), returns: f64List(), kl: f64List() },
        );
        return withMeta(out, {
          [PPO_KEY]: { ...meta, klCoef, meanKl: a.meanKl } satisfies PpoMeta,
        }) as unknown as RecordBatch<PpoAdvantageCols>;
      },
      { ctx },
    );
  },
});
