// `flowlm eval`: a checkpoint scored on evaluation tasks, one EvalResults batch per task, written as one
// Parquet table (task, metric, value, stderr, n, config_hash). The same two nodes run in any spec; as a
// spec of its own:
//   flowlm run pipelines/eval-default.ts --set params.checkpoint=out/demo/run \
//     --set 'params.tasks=["lambada-moby-sotu","spam-zero-shot"]' --set params.limit=20 --set params.out=out/eval.parquet
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

export interface EvalParams {
  checkpoint?: string;
  tasks?: string[];
  limit?: number;
  /** the results table */
  out?: string;
}

/** The spec from `--set params.*`; a missing checkpoint or task list is refused with what to set. */
export default function evalDefault(p: EvalParams = {}): PipelineSpecInput {
  if (!p.checkpoint) throw new Error('params.checkpoint: set the checkpoint to score (--set params.checkpoint=DIR)');
  if (!p.tasks?.length) throw new Error('params.tasks: set the tasks (--set \'params.tasks=["lambada-moby-sotu"]\')');
  return evalSpec({
    checkpoint: p.checkpoint,
    tasks: p.tasks,
    limit: p.limit,
    results: p.out ?? 'out/eval/results.parquet',
  });
}
