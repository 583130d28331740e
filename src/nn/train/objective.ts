// The objective a training config asks for, in the form train-step.ts computes it: next-token
// prediction, masked LM with the config's masking (the mask token defaulting to the model's last id),
// or a pair objective (reward model, DPO: pair-objective.ts).
import type { GptConfig } from '../model/config.ts';
import type { Gpt } from '../model/gpt.ts';
import type { MaskingOptions } from '../objective/mask-tokens.ts';
import type { TrainConfig } from './train-config.ts';
import type { Objective } from './train-step.ts';

/** How the masked objective masks, with the config's defaults resolved against the model. */
export function maskingOf(cfg: TrainConfig, model: GptConfig): MaskingOptions {
  const m = cfg.masking;
  const maskToken = m.maskToken ?? model.vocabSize - 1;
  if (maskToken >= model.vocabSize)
    throw new Error(
      `train config: masking.maskToken ${maskToken} is outside the model's vocabulary [0, ${model.vocabSize})`,
    );
  return {
    maskToken,
    vocabSize: model.vocabSize,
    maskProb: m.maskProb,
    replaceMask: m.replaceMask,
    replaceRandom: m.replaceRandom,
  };
}

/** The objective of `cfg`; DPO's frozen reference model is the replica's (reference-model.ts). */
export function objectiveOf(cfg: TrainConfig, model: GptConfig, reference?: Gpt): Objective {
  const labelSmoothing = cfg.labelSmoothing || undefined;
  if (cfg.objective === 'causal') return { kind: 'autoregressive', labelSmoothing };
  if (cfg.objective === 'reward') return { kind: 'reward', margin: cfg.reward.margin };
  if (cfg.objective === 'dpo') {
    if (!reference) throw new Error("objectiveOf: objective 'dpo' needs the frozen reference model");
    return { kind: 'dpo', beta: cfg.dpo.beta, labelSmoothing: cfg.dpo.labelSmoothing, reference };
  }
  return { kind: 'masked-lm', labelSmoothing, ...maskingOf(cfg, model) };
}
