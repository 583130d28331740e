// A prep pipeline of its own, for the clustered `flowlm run FILE --cluster` tests: prep-default's steps,
// tokenized with GPT-2's encoding into rows of 128 tokens and small shards, tokenizing on the main thread,
// and exact dedup ignoring punctuation (so a copy that differs only in punctuation is dropped too).
import { prepSpec as base } from '../../pipelines/prep-default.ts';
import type { PrepOptions } from '../../src/cli/prep-contract.ts';
import type { PipelineSpecInput } from '../../src/graph/spec.ts';

export function prepSpec(options: PrepOptions = {}): PipelineSpecInput {
  const spec = base({ encoding: 'gpt2', seqLen: 128, shardBytes: 48 << 10, workers: 0, ...options });
  return {
    ...spec,
    steps: spec.steps!.map((s) =>
      s.id === 'dedup' ? { ...s, config: { ...(s.config as object), punctuation: true } } : s,
    ),
  };
}

export default prepSpec();
