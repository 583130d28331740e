// Supervised fine-tuning data as one streaming job: prompt/response records -> the template and
// tokens with a loss mask (posttrain/sft-tokenize) -> rows of seqLen+1 holding whole examples, with
// doc_starts and the loss mask as attention_mask (posttrain/sft-pack) -> shards and a manifest the
// trainer reads as it reads pretraining shards (operators/train/shard-batches; give the model
// docMasking: true so examples packed in one row do not see each other).
// With no inputs it reads the ham emails of the SpamAssassin corpus (posttrain/spam-sft), without the
// ones the spam-zero-shot eval task holds out.
//   flowlm run pipelines/sft-prep.ts [--set pack.seqLen=256 --set write.dir=out/sft]
// Other data: sftPrepSpec({ inputs: ['data/*.jsonl'] }) (prompt and response fields) or Parquet files
// with prompt and response columns.
import { availableParallelism } from 'node:os';
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';
import { readParquet } from '../operators/ingest/read-parquet.ts';
import { readSftJsonl } from '../operators/ingest/read-sft-jsonl.ts';
import type { Step } from '../operators/ingest/reader-for.ts';
import { sftPack } from '../operators/posttrain/sft-pack.ts';
import { sftTokenize } from '../operators/posttrain/sft-tokenize.ts';
import { sftTemplateSchema, type SftTemplateInput } from '../operators/posttrain/sft-template.ts';
import { spamSft } from '../operators/posttrain/spam-sft.ts';
import { writeShards } from '../operators/shard/write-shards.ts';

export interface SftPrepOptions {
  /** JSON Lines (.jsonl, .jsonl.gz) or Parquet (.parquet) files or globs, one kind; none: SpamAssassin ham */
  inputs?: string[];
  out?: string;
  encoding?: 'gpt2' | 'r50k' | 'p50k' | 'cl100k' | 'o200k';
  seqLen?: number;
  template?: SftTemplateInput;
  overflow?: 'truncate' | 'drop';
  packing?: boolean;
  workers?: number;
}

export const SFT_PREP_DEFAULTS = { out: 'out/sft-prep', encoding: 'gpt2', seqLen: 128 } as const;

function readStep(inputs: readonly string[] | undefined): Step {
  if (!inputs?.length) return { id: 'read', op: spamSft, config: {} };
  const parquet = inputs.map((i) => /\.parquet$/i.test(i));
  if (parquet.every(Boolean))
    return { id: 'read', op: readParquet, config: { paths: [...inputs], columns: ['prompt', 'response'] } };
  if (parquet.some(Boolean))
    throw new Error(`sft-prep: inputs mix Parquet and JSON Lines files (${inputs.join(', ')}); give one kind per run`);
  return { id: 'read', op: readSftJsonl, config: { paths: [...inputs] } };
}

export function sftPrepSpec(options: SftPrepOptions = {}): PipelineSpecInput {
  const o = { ...SFT_PREP_DEFAULTS, workers: Math.min(4, availableParallelism()), ...options };
  // emails read best as they are: the subject line, then the body (Alpaca's default is for instructions)
  const template = sftTemplateSchema.parse(o.template ?? (o.inputs?.length ? {} : { prompt: '{prompt}\n' }));
  return pipeline({
    name: 'sft-prep',
    budget: { maxInFlight: 8 },
    steps: [
      readStep(o.inputs),
      { id: 'tokenize', op: sftTokenize, workers: o.workers, config: { encoding: o.encoding, template } },
      {
        id: 'pack',
        op: sftPack,
        config: { seqLen: o.seqLen, overflow: o.overflow ?? 'truncate', packing: o.packing ?? true },
      },
      {
        id: 'write',
        op: writeShards,
        config: {
          dir: o.out,
          format: 'ipc',
          encoding: o.encoding,
          meta: { pipeline: 'sft-prep', template },
        },
      },
    ],
  });
}

export default sftPrepSpec();
