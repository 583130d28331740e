// Preference pairs as one streaming job, for a reward model or DPO: pairs (by default the SpamAssassin
// corpus's, posttrain/spam-preference-pairs: a ham subject as the prompt, a ham body excerpt chosen over
// a spam one) -> one row of 2 x (seqLen+1) tokens per pair through the SFT template, [chosen | rejected],
// attention_mask 1 on the response tokens (posttrain/pair-pack) -> shards and a manifest the trainer
// reads with objective 'reward' or 'dpo' (the model's context is seqLen; each half is one example).
//   flowlm run pipelines/pair-prep.ts [--set read.split=heldout --set write.dir=out/pairs-heldout]
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';
import { pairPack } from '../operators/posttrain/pair-pack.ts';
import { spamPreferencePairs } from '../operators/posttrain/preference-pairs.ts';
import { sftTemplateSchema, type SftTemplateInput } from '../operators/posttrain/sft-template.ts';
import { writeShards } from '../operators/shard/write-shards.ts';

export interface PairPrepOptions {
  out?: string;
  split?: 'train' | 'heldout';
  encoding?: 'gpt2' | 'r50k' | 'p50k' | 'cl100k' | 'o200k';
  seqLen?: number;
  /** the pairs' prompts end with a newline already: the default template adds nothing */
  template?: SftTemplateInput;
  seed?: number;
}

export const PAIR_PREP_DEFAULTS = { out: 'out/pair-prep', split: 'train', encoding: 'gpt2', seqLen: 128 } as const;

export function pairPrepSpec(options: PairPrepOptions = {}): PipelineSpecInput {
  const o = { ...PAIR_PREP_DEFAULTS, ...options };
  const template = sftTemplateSchema.parse(o.template ?? { prompt: '{prompt}' });
  return pipeline({
    name: 'pair-prep',
    budget: { maxInFlight: 8 },
    steps: [
      { id: 'read', op: spamPreferencePairs, config: { split: o.split, seed: o.seed ?? 0 } },
      { id: 'pack', op: pairPack, config: { seqLen: o.seqLen, encoding: o.encoding, template } },
      {
        id: 'write',
        op: writeShards,
        config: { dir: o.out, format: 'ipc', encoding: o.encoding, meta: { pipeline: 'pair-prep', template } },
      },
    ],
  });
}

export default pairPrepSpec();
