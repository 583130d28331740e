// PPO's update of an iteration (src/nn/ppo/ppo-update.ts): ppoEpochs passes of minibatches, each a
// clipped policy loss + vfCoef * clipped value loss, gradient clipping and an AdamW step over the
// trainable specs (policy or its LoRA adapters, and the value head); then the KL controller's update
// and the run's iteration and cursor. Out comes the iteration's Metrics batch: mean score, KL to the
// reference, kl_coef (the one the rewards used), entropy, clip fractions, value and policy losses,
// approx KL; its metadata says whether the run ends here (last iteration or a stop request).
// Single replica (rank 0).
import type { Float32, Float64, Int32, List, RecordBatch } from 'apache-arrow';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { ppoUpdate } from '../../src/nn/ppo/ppo-update.ts';
import { withMeta } from '../../src/nn/train/step-batches.ts';
import { metricsSchema, type Metrics } from '../../src/schema/columns.ts';
import { metricsBatch } from '../../src/schema/metrics.ts';
import { floatColumn, idRows, listRows } from './ppo-columns.ts';
import { PPO_KEY, ppoField, ppoStage, type PpoMeta } from './ppo-field.ts';

type In = {
  prompt_ids: List<Int32>;
  response_ids: List<Int32>;
  score: Float32;
  logprobs: List<Float32>;
  values: List<Float32>;
  advantages: List<Float64>;
  returns: List<Float64>;
};

export const ppoUpdateOp = defineOperator({
  id: 'posttrain/ppo-update',
  description:
    "PPO epochs x minibatches of clipped policy + value loss, grad clipping and AdamW on each iteration's rollouts; " +
    "emits the iteration's metrics; rank 0 only",
  config: z.object({ ppo: ppoField }),
  placement: 'rank0',
  input: () => new Schema<In>([]),
  passthrough: false,
  output: () => metricsSchema(),
  make: (cfg, ctx) => {
    const stage = ppoStage(ctx, cfg.ppo);
    return mapBatch(
      async (batch: RecordBatch<In>): Promise<RecordBatch<Metrics>> => {
        const { run, state, meta } = await stage(batch);
        if (meta.klCoef === undefined || meta.meanKl === undefined)
          throw new Error(`${ctx.nodeId}: the batch carries no KL facts; place this after posttrain/ppo-advantages`);
        const c = state.cfg;
        const where = ctx.nodeId;
        const responses = idRows(batch, 'response_ids', where);
        const r = ppoUpdate(
          {
            policy: state.policy,
            valueHead: state.valueHead,
            optimizer: state.optimizer,
            trainable: state.trainable,
            host: state.paramHost(),
          },
          {
            prompts: idRows(batch, 'prompt_ids', where),
            responses,
            oldLogprobs: listRows(batch, 'logprobs', where),
            oldValues: listRows(batch, 'values', where),
            advantages: listRows(batch, 'advantages', where),
            returns: listRows(batch, 'returns', where),
          },
          c,
          state.rng,
        );
        state.kl.update(meta.meanKl, batch.numRows);
        state.iteration = meta.iteration;
        state.cursor = meta.cursor;
        const last = meta.iteration >= c.iterations || run.stopRequested;
        state.finished = last;
        const scores = floatColumn(batch, 'score', where);
        const out = metricsBatch({
          step: meta.iteration,
          split: 'train',
          values: {
            score: scores.reduce((a, b) => a + b, 0) / scores.length,
            kl: meta.meanKl,
            kl_coef: meta.klCoef,
            entropy: r.entropy,
            clipfrac: r.pgClipfrac,
            vf_clipfrac: r.vfClipfrac,
            value_loss: r.vfLoss,
            policy_loss: r.pgLoss,
            loss: r.loss,
            approx_kl: r.approxKl,
            grad_norm: r.gradNorm,
            response_length: responses.reduce((a, x) => a + x.length, 0) / responses.length,
          },
        });
        return withMeta(out, { [PPO_KEY]: { ...meta, last } satisfies PpoMeta });
      },
      { ctx },
    );
  },
});
