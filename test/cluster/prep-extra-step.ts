// A pipeline file whose steps are not prep's own: a quality filter between dedup and tokenize. A clustered
// run must refuse it (the item/merge cut would leave the step out), naming the steps.
import { prepSpec as base } from '../../pipelines/prep-default.ts';
import { quality } from '../../operators/clean/quality.ts';
import type { PrepOptions } from '../../src/cli/prep-contract.ts';
import type { PipelineSpecInput } from '../../src/graph/spec.ts';

export function prepSpec(options: PrepOptions = {}): PipelineSpecInput {
  const spec = base({ workers: 0, ...options });
  const steps = [...spec.steps!];
  steps.splice(
    steps.findIndex((s) => s.id === 'tokenize'),
    0,
    { id: 'quality', op: quality, config: {} },
  );
  return { ...spec, steps };
}

export default prepSpec();
