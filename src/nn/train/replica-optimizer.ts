// The optimizer a replica trains with, from the run's config: AdamW with its moments in memory, sharded
// over the data-parallel ranks (ZeRO-1, zero: true) or on disk (offload: 'disk'). Only the trainable
// parameters get moments (a frozen base has none: src/nn/adapters/trainable.ts).
import { trainableSpecs } from '../adapters/trainable.ts';
import type { Gpt } from '../model/gpt.ts';
import { AdamWOptimizer } from '../optim/adamw-optimizer.ts';
import { DiskOffloadAdamW } from '../optim/disk-offload-adamw.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { ZeroAdamW } from '../optim/zero-adamw.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import type { TrainConfig } from './train-config.ts';

export function optimizerOf(cfg: TrainConfig, model: Gpt, collective: Collective): Optimizer {
  const ao = { beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay };
  const specs = trainableSpecs(model.specs, model.config);
  if (cfg.offload === 'disk') {
    if (cfg.zero)
      throw new Error("trainer offload 'disk' keeps every moment on this rank's disk; it does not combine with zero");
    return new DiskOffloadAdamW(specs, ao, cfg.offloadDir);
  }
  return cfg.zero ? new ZeroAdamW(specs, ao, collective) : new AdamWOptimizer(specs, ao);
}
