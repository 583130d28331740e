// The model a fresh run starts with: GPT-2 initialisation from the seed, or with `init.from` another
// run's weights (fine-tuning). Only the parameters come from there: the caller builds a fresh
// optimizer and starts the schedule and the data at step 0. The checkpoint must hold exactly this
// model's parameters, each with this model's shape (match-params.ts), or the run is refused; adapter
// parameters (src/nn/adapters) are the exception: they start from the seed.
import { loadCheckpoint } from '../checkpoint/index.ts';
import { matchParams } from '../checkpoint/match-params.ts';
import type { GptConfig } from '../model/config.ts';
import { Gpt } from '../model/gpt.ts';
import { paramSpecs } from '../model/params.ts';
import type { TrainConfig } from './train-config.ts';

export async function initialModel(cfg: TrainConfig, modelCfg: GptConfig, log: (line: string) => void): Promise<Gpt> {
  const from = cfg.init.from;
  if (from === undefined) return Gpt.create(modelCfg, { seed: cfg.seed });
  let ck;
  try {
    ck = await loadCheckpoint(from);
  } catch (err) {
    throw new Error(`init.from ${from}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // adapters (LoRA, prefix, ...) are new to this run: the checkpoint gives the base, the seed the adapters
  const base = paramSpecs(modelCfg).filter((s) => s.adapter === undefined);
  const values = matchParams(base, ck.params, `init.from ${ck.dir}`);
  log(`initialised from ${ck.dir} (its step ${ck.step}): weights only; optimizer, schedule and data start at step 0`);
  return Gpt.create(modelCfg, { values });
}
