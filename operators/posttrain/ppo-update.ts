// PPO's update of an iteration (src/nn/ppo/ppo-update.ts): ppoEpochs passes of minibatches, each a
// clipped policy loss + vfCoef * clipped value loss, gradient clipping and an AdamW step over the
// trainable specs (policy or its LoRA adapters, and the value head); then the KL controller's update
// and the run's iteration and cursor. Out comes the iteration's Metrics batch: mean score, KL to the
// reference, kl_coef (the one the rewards used), entropy, clip fractions, value and policy losses,
// approx KL; its metadata says whether the run ends here (last iteration or a stop request).
// Data parallel: each rank updates on its rollouts with gradients summed over ranks; the metrics are
// the whole iteration's (sums over ranks), the same on every rank, and so is the decision to stop.
import type { Float32, Float64, Int32, List, RecordBatch } from 'apache-arrow';
import { Schema } from 'apache-arrow';
import { z } from 'zod';
import { mapBatch } from '../../src/core/map-batch.ts';
import { defineOperator } from '../../src/core/operator.ts';
import { sumOverRanks } from '../../src/nn/ppo/ppo-dist.ts';
import { ppoUpdate } from '../../src/nn/ppo/ppo-update.ts';
import { anyRank } from '../../src/nn/train/replica-reduce.ts';
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
    "emits the iteration's metrics; gradients summed over ranks",
  config: z.object({ ppo: ppoField }),
  placement: 'replica',
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
        const dist = state.dist;
        const r = await ppoUpdate(
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
          { collective: dist.collective, offset: state.share.start, total: c.batchSize },
        );
        state.kl.update(meta.meanKl, c.batchSize);
        state.iteration = meta.iteration;
        state.cursor = meta.cursor;
        // a stop request may reach one rank: all end after the same iteration
        const stop = await anyRank(dist.collective, run.stopRequested);
        const last = meta.iteration >= c.iterations || stop;
        state.finished = last;
        const scores = floatColumn(batch, 'score', where);
        const [scoreSum, tokens] = await sumOverRanks(dist.collective, [
          scores.reduce((a, b) => a + b, 0),
          responses.reduce((a, x) => a + x.length, 0),
        ]);
        run.iterationDone(state, { loss: r.loss, gradNorm: r.gradNorm, tokens: tokens! });
        const out = metricsBatch({
          step: meta.iteration,
          split: 'train',
          values: {
            score: scoreSum! / c.batchSize,
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
            response_length: tokens! / c.batchSize,
          },
        });
        return withMeta(out, { [PPO_KEY]: { ...meta, last } satisfies PpoMeta });
      },
      { ctx },
    );
  },
});
