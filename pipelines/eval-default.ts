// `flowlm eval`: a checkpoint scored on evaluation tasks, one EvalResults batch per task, written as one
// Parquet table (task, metric, value, stderr, n, config_hash). The same two nodes run in any spec.
import type { EvalOptions } from '../src/cli/eval-contract.ts';
import { pipeline, type PipelineSpecInput } from '../src/graph/spec.ts';
import { scoreTasks } from '../operators/eval/score-tasks.ts';
import { writeParquet } from '../operators/io/write-parquet.ts';

export function evalSpec(o: EvalOptions): PipelineSpecInput {
  return pipeline({
    name: 'eval',
    steps: [
      {
        id: 'score',
        op: scoreTasks,
        config: {
          checkpoint: o.checkpoint,
          tasks: o.tasks,
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
          ...(o.plots !== undefined ? { plots: o.plots } : {}),
        },
      },
      { id: 'results', op: writeParquet, config: { path: o.results, compression: 'zstd' } },
    ],
  });
}
