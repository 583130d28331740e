// What a model-parallel run (`flowlm train --tp N` / `--pp N`) trains, read from the same spec a
// data-parallel run reads: the nn/trainer resource, its nn/gpt model and nn/adamw optimizer, and the
// train/shard-batches source's data settings, merged into one TrainConfig exactly as the trainer
// resource does (src/nn/resources/trainer-resource.ts). The grid's shape comes from the flags and the
// device count; what the engines or this launcher do not run is refused here, before any thread starts.
import type { GptConfig } from '../nn/model/config.ts';
import { checkPipelineConfig, stagePlan } from '../nn/parallel/pipeline-stages.ts';
import { tensorShardSpecs } from '../nn/parallel/tensor-shard.ts';
import type { GptResource } from '../nn/resources/gpt-resource.ts';
import { modelConfigOf, trainConfigSchema, type TrainConfig } from '../nn/train/train-config.ts';
import { trainModuleKind } from './load-train-pipeline.ts';
import { resolveSpecFile } from './plan.ts';

export type ParallelKind = 'tp' | 'pp';

export interface GridShape {
  kind: ParallelKind;
  /** tensor-parallel ranks per group, or pipeline stages */
  size: number;
  /** data-parallel replicas of the model-parallel group */
  dp: number;
  /** pipeline micro-batches per step (pp; the step's rows split evenly) */
  micro: number;
}

/** A config or flag combination the model-parallel run refuses: the CLI reports it as bad usage. */
export class ModelParallelError extends Error {
  override readonly name = 'ModelParallelError';
}

const DATA_SOURCE = 'train/shard-batches';

/** The training config of the spec file with its overrides, as the data-parallel trainer would build it. */
export async function modelParallelConfig(file: string, sets: string[]): Promise<TrainConfig> {
  if ((await trainModuleKind(file)) === 'function')
    throw new ModelParallelError(
      `${file} exports a TrainPipeline function; --tp/--pp read a spec's resources (e.g. pipelines/train-tiny.ts)`,
    );
  const spec = await resolveSpecFile(file, { sets });
  const trainers = [...spec.resources.values()].filter((r) => r.kind === 'nn/trainer');
  if (trainers.length !== 1)
    throw new ModelParallelError(
      `${file} declares ${trainers.length} nn/trainer resources; --tp/--pp train specs with exactly one`,
    );
  const trainer = trainers[0]!;
  const { model: modelName, optimizer: optName, ...rest } = trainer.config as Record<string, unknown>;
  const model = spec.resources.get(String(modelName));
  const opt = spec.resources.get(String(optName));
  if (!model || !opt) throw new ModelParallelError(`${file}: the trainer's model or optimizer resource is missing`);
  const sources = [...spec.nodes.values()].filter((n) =>
    n.uses.some((u) => u.name === trainer.name && n.inputs.length === 0),
  );
  const data = sources.find((n) => n.def.id === DATA_SOURCE);
  if (!data)
    throw new ModelParallelError(
      `${file}: --tp/--pp read the training rows as ${DATA_SOURCE} does; this spec's data source is ` +
        `${sources.map((n) => n.def.id).join(', ') || 'missing'}`,
    );
  const { trainer: _t, dir, ...dataRest } = data.config as Record<string, unknown>;
  // the nn/gpt resource's own open() is pure: the preset and the fields given besides it
  const gpt = (await model.def.open(model.config, undefined as never)) as GptResource;
  return trainConfigSchema.parse({
    ...rest,
    ...(opt.config as Record<string, unknown>),
    preset: gpt.preset,
    model: gpt.fields,
    data: { train: dir, ...dataRest },
  });
}

/** The grid for `devices` CPU threads, checked against the config and the engines' limits. */
export function gridShape(
  cfg: TrainConfig,
  o: { kind: ParallelKind; size: number; devices: number; micro?: number },
): GridShape {
  const flag = `--${o.kind}`;
  if (o.devices % o.size !== 0)
    throw new ModelParallelError(
      `${flag} ${o.size} needs a multiple of ${o.size} devices (${o.kind} x dp); --devices gives ${o.devices}: ` +
        `use cpu:${o.size} or cpu:${2 * o.size}`,
    );
  const dp = o.devices / o.size;
  const fail = (what: string) => {
    throw new ModelParallelError(`${flag} ${o.size}: ${what}`);
  };
  if (cfg.objective !== 'causal') fail(`only objective 'causal' is supported, the config has '${cfg.objective}'`);
  if (cfg.zero) fail('optimizer.zero (ZeRO-1) is not combined with model parallelism; set optimizer.zero=false');
  if (cfg.allReduceDtype !== 'f32') fail('allReduceDtype must be f32');
  let m: GptConfig;
  try {
    m = modelConfigOf(cfg);
    if (o.kind === 'tp') {
      tensorShardSpecs(m, o.size); // the engine's own checks, its messages as they are
      if (cfg.labelSmoothing > 0) fail('labelSmoothing must be 0 (the vocabulary-parallel loss has none)');
    } else {
      checkPipelineConfig(m);
      stagePlan(m, o.size, 0);
    }
  } catch (err) {
    if (err instanceof ModelParallelError) throw err;
    throw new ModelParallelError(`${flag} ${o.size}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let micro = 1;
  if (o.kind === 'pp') {
    const rows = cfg.gradAccum * cfg.batchSize;
    micro = o.micro ?? cfg.gradAccum;
    if (!Number.isInteger(micro) || micro < 1 || rows % micro !== 0)
      fail(
        `--micro-batches ${micro} must divide the ${rows} rows a pipeline takes per step (gradAccum ` +
          `${cfg.gradAccum} x batchSize ${cfg.batchSize})`,
      );
  } else if (o.micro !== undefined) fail('--micro-batches applies to --pp only');
  return { kind: o.kind, size: o.size, dp, micro };
}
