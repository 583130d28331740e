// DPO's frozen reference: the model a checkpoint recorded (dpo.reference, by default init.from, the
// policy's own starting point), loaded once per replica, fresh runs and resumed ones alike. It is no
// part of the trained model: no gradients, no optimizer state, not checkpointed.
import { loadModel } from '../checkpoint/load-model.ts';
import type { GptConfig } from '../model/config.ts';
import type { Gpt } from '../model/gpt.ts';
import type { TrainConfig } from './train-config.ts';

/** Where the reference comes from, or an error saying how to name one. */
export function referenceDir(cfg: TrainConfig): string {
  const dir = cfg.dpo.reference ?? cfg.init.from;
  if (dir === undefined)
    throw new Error(
      "train config: objective 'dpo' needs a frozen reference model: set init.from (the SFT checkpoint the policy " +
        'starts from, ' +
        'which is also the default reference) or dpo.reference',
    );
  return dir;
}

export async function referenceModel(cfg: TrainConfig, policy: GptConfig, log: (line: string) => void): Promise<Gpt> {
  const dir = referenceDir(cfg);
  let loaded;
  try {
    loaded = await loadModel(dir);
  } catch (err) {
    throw new Error(`dpo reference ${dir}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const m = loaded.model;
  if (m.config.vocabSize !== policy.vocabSize) {
    m.dispose();
    throw new Error(
      `dpo reference ${loaded.dir}: its vocabulary has ${m.config.vocabSize} ids, the policy's ${policy.vocabSize}; ` +
        'the reference must read the same tokens (use the checkpoint the policy was fine-tuned from)',
    );
  }
  log(`DPO reference (frozen): ${loaded.dir} (its step ${loaded.step})`);
  return m;
}
