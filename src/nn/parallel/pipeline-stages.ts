// Which part of the GPT each pipeline stage holds: contiguous blocks (earlier stages take one more
// when nLayer does not divide), the embeddings (wte, wpe) on the first stage, ln_f and the head on the
// last. A tied head makes the last stage keep its own copy of wte; the two copies start equal and
// their gradients are summed every step (Megatron's embedding group), so they stay equal.
import { shardRange } from '../../runtime/collectives/collective.ts';
import { gptConfig, type GptConfig, type GptConfigInput } from '../model/config.ts';
import { Gpt } from '../model/gpt.ts';
import { paramSpecs, type ParamSpec } from '../model/params.ts';

export interface StagePlan {
  stage: number;
  stages: number;
  /** blocks h.first .. h.(end-1) */
  layers: { first: number; end: number };
  isFirst: boolean;
  isLast: boolean;
  /** the parameter the last stage's head multiplies by: wte.weight (its copy) or lm_head.weight */
  head: string;
  /** this stage's parameters, in the model's spec order */
  specs: ParamSpec[];
}

/** Throws, naming the setting, for configs the pipeline does not run. */
export function checkPipelineConfig(cfg: GptConfig): void {
  const bad: string[] = [];
  if (cfg.lora || cfg.prefix || cfg.ptuning) bad.push('adapters (lora, prefix, ptuning)');
  if (cfg.rewardHead) bad.push('rewardHead');
  if (cfg.docMasking) bad.push('docMasking');
  if (cfg.activationCheckpointing)
    bad.push('activationCheckpointing (each stage recomputes its forward in its backward already)');
  // each stage would need its own generator, drawing masks in a different order than one device does
  if (cfg.dropout > 0 || cfg.attnDropout > 0 || cfg.dropPath > 0) bad.push('dropout, attnDropout or dropPath > 0');
  if (bad.length > 0)
    throw new Error(`pipeline parallelism does not support ${bad.join('; ')}: turn them off in the model config`);
}

/** The part of `cfg`'s GPT that stage `stage` of `stages` holds. */
export function stagePlan(cfg: GptConfig, stages: number, stage: number): StagePlan {
  checkPipelineConfig(cfg);
  if (!Number.isInteger(stages) || stages < 1 || stages > cfg.nLayer)
    throw new Error(`pipeline: stages must be an integer in [1, nLayer = ${cfg.nLayer}], got ${stages}`);
  if (!Number.isInteger(stage) || stage < 0 || stage >= stages)
    throw new Error(`pipeline: stage must be an integer in [0, ${stages}), got ${stage}`);
  const [first, end] = shardRange(cfg.nLayer, stage, stages);
  const isFirst = stage === 0;
  const isLast = stage === stages - 1;
  const head = cfg.tiedHead ? 'wte.weight' : 'lm_head.weight';
  const mine = (name: string): boolean => {
    const block = /^h\.(\d+)\./.exec(name);
    if (block) {
      const l = Number(block[1]);
      return l >= first && l < end;
    }
    if (name === 'wte.weight') return isFirst || (isLast && cfg.tiedHead);
    if (name === 'wpe.weight') return isFirst;
    return isLast; // ln_f, lm_head
  };
  return {
    stage,
    stages,
    layers: { first, end },
    isFirst,
    isLast,
    head,
    specs: paramSpecs(cfg).filter((s) => mine(s.name)),
  };
}

/** A Gpt holding only this stage's parameters (the others are disposed and removed), initialised as
 * the whole model would be from `seed` (or given `values`), so every stage starts where one device
 * would. The whole model exists briefly while it is built. */
export function stageModel(
  cfg: GptConfig,
  plan: StagePlan,
  opts: { seed?: number; values?: Map<string, Float32Array> } = {},
): Gpt {
  const model = Gpt.create(cfg, opts);
  const keep = new Set(plan.specs.map((s) => s.name));
  for (const [name, v] of [...model.params]) {
    if (keep.has(name)) continue;
    v.dispose();
    model.params.delete(name);
  }
  return model;
}

/** A stage's plan and its parameters. */
export interface PipelineStage {
  plan: StagePlan;
  model: Gpt;
}

/** Stage `stage` of `stages` of the GPT `config`, initialised as one device would be from `seed`. */
export function createPipelineStage(
  config: GptConfigInput,
  stages: number,
  stage: number,
  opts: { seed?: number; values?: Map<string, Float32Array> } = {},
): PipelineStage {
  const cfg = gptConfig(config);
  const plan = stagePlan(cfg, stages, stage);
  return { plan, model: stageModel(cfg, plan, opts) };
}
