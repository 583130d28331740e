// What `flowlm eval` asks of an evaluation pipeline built from flags. src/ never imports pipelines/, so
// the builder (pipelines/eval-default.ts) is loaded by path at run time; this file is the contract both
// sides compile against.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PipelineSpecInput } from '../graph/spec.ts';

export interface EvalOptions {
  /** a step-NNNNNN checkpoint directory or a run directory (its latest) */
  checkpoint: string;
  /** task names, task file paths, or 'all' */
  tasks: string[];
  /** the first N documents of each task */
  limit?: number;
  /** log-likelihood requests per forward pass */
  batchSize?: number;
  /** the results table (Parquet) */
  results: string;
  /** directory of reliability diagrams; none when absent */
  plots?: string;
}

export type EvalBuilder = (options: EvalOptions) => PipelineSpecInput;

export const EVAL_PIPELINE = fileURLToPath(new URL('../../pipelines/eval-default.ts', import.meta.url));

export async function loadEvalBuilder(file = EVAL_PIPELINE): Promise<EvalBuilder> {
  if (!existsSync(file))
    throw new Error(`the eval pipeline ${file} is missing: the package is incomplete (reinstall it)`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (typeof mod.evalSpec !== 'function') throw new Error(`${file} exports no evalSpec(options) function`);
  return mod.evalSpec as EvalBuilder;
}
