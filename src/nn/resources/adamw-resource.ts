// `nn/adamw`: the optimizer's settings — AdamW with decoupled weight decay, a cosine schedule with
// linear warm-up, clipping by global norm, and ZeRO-1 (moments sharded across the ranks). The trainer
// builds the optimizer state per replica; the fields are the training config's (train-config.ts).
import { z } from 'zod';
import { defineResource } from '../../core/resource.ts';
import { trainConfigSchema } from '../train/train-config.ts';

const Config = trainConfigSchema.pick({
  lr: true,
  weightDecay: true,
  beta1: true,
  beta2: true,
  clipNorm: true,
  zero: true,
  offload: true,
  offloadDir: true,
});

export type AdamwResource = z.output<typeof Config>;

export const adamwResource = defineResource({
  kind: 'nn/adamw',
  description:
    'AdamW (decoupled weight decay) with a cosine learning-rate schedule, gradient clipping and optional ZeRO-1',
  config: Config,
  open: (c): AdamwResource => c,
  describe: (c) =>
    `AdamW lr ${c.lr.max} -> ${c.lr.min} (warm-up ${c.lr.warmupSteps}), weight decay ${c.weightDecay}, clip ${c.clipNorm || 'off'}${c.zero ? ', ZeRO-1' : ''}${c.offload === 'disk' ? ', moments on disk' : ''}`,
});
