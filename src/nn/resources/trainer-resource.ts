// `nn/trainer`: one data-parallel replica of a training run — the model (an nn/gpt resource) and its
// optimizer (nn/adamw) on this rank, the batch and step counts, evaluation and checkpoint settings,
// and the run directory. The replica itself (src/nn/train/replica.ts: tensors, optimizer state, data
// position, a checkpoint resumed) is opened by the graph's data source, which knows where the rows
// come from; every training operator names this resource and waits for that.
import { z } from 'zod';
import { defineResource, resourceRef, type ResourceScope } from '../../core/resource.ts';
import type { TrainDataConfig } from '../train/trainer-handle.ts';
import { Trainer } from '../train/trainer-handle.ts';
import { trainConfigSchema } from '../train/train-config.ts';
import type { AdamwResource } from './adamw-resource.ts';
import type { GptResource } from './gpt-resource.ts';

const Config = trainConfigSchema
  .omit({
    preset: true,
    model: true,
    data: true,
    lr: true,
    weightDecay: true,
    beta1: true,
    beta2: true,
    clipNorm: true,
    zero: true,
    offload: true,
    offloadDir: true,
  })
  .extend({
    model: resourceRef('nn/gpt', 'the model: an nn/gpt resource'),
    optimizer: resourceRef('nn/adamw', 'the optimizer: an nn/adamw resource'),
  });

export type TrainerResourceConfig = z.output<typeof Config>;

export const trainerResource = defineResource({
  kind: 'nn/trainer',
  description:
    'one data-parallel replica of a training run: model, optimizer, steps and batches, evaluation, checkpoints, run ' +
    'directory',
  config: Config,
  open: async (c, scope: ResourceScope) => {
    const model = await scope.get<GptResource>(c.model, 'nn/gpt');
    const optimizer = await scope.get<AdamwResource>(c.optimizer, 'nn/adamw');
    const { model: _m, optimizer: _o, ...rest } = c;
    return new Trainer(
      (data: TrainDataConfig) =>
        trainConfigSchema.parse({
          ...rest,
          ...optimizer,
          preset: model.preset,
          model: model.fields,
          data,
        }),
      scope,
    );
  },
  dispose: (t) => t.dispose(),
  describe: (c) => `${c.steps} steps of ${c.gradAccum} x ${c.batchSize} rows per rank; run directory ${c.runDir}`,
});
