// `flowlm prep`: data preparation alone. Without a file the flags build the default prep pipeline
// (pipelines/prep-default.ts, loaded by path: src/ never imports pipelines/); with a file that exports
// `prepSpec(options)` the flags build that one; any other pipeline file runs as `flowlm run` would.
// No input: the embedded default corpus. Progress, exit codes and --json as in `flowlm run`, plus the
// prep figures (documents, tokens, shards, MB/s, tokens/s, peak RSS).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SpecError } from '../core/errors.ts';
import { loadSpecFile } from '../graph/load.ts';
import { defaultRegistry, type Registry } from '../graph/registry.ts';
import { prepHelp } from './prep-help.ts';
import { loadPrepBuilder, PREP_PIPELINE, type PrepOptions } from './prep-contract.ts';
import { prepReport } from './prep-summary.ts';
import { executePipeline, parseCount, resolveSpec, RUN_OPTIONS, runSettings } from './run-command.ts';
import { UsageError, type CliIO } from './io.ts';
import { PREP_CLUSTER_OPTIONS } from './cluster-help.ts';

/** Flags that build the pipeline (they need a builder: the default pipeline or a file exporting prepSpec). */
export const BUILD_OPTIONS = {
  input: { type: 'string', multiple: true, short: 'i' },
  out: { type: 'string', short: 'o' },
  encoding: { type: 'string' },
  tokenizer: { type: 'string' },
  'seq-len': { type: 'string' },
  workers: { type: 'string' },
  format: { type: 'string' },
  'no-dedup': { type: 'boolean' },
  'near-dup': { type: 'string' },
  'shard-bytes': { type: 'string' },
  decontaminate: { type: 'string' },
  'decontaminate-mode': { type: 'string' },
  'decontaminate-report': { type: 'string' },
} as const;

export const PREP_OPTIONS = { ...RUN_OPTIONS, ...BUILD_OPTIONS, ...PREP_CLUSTER_OPTIONS } as const;

interface BuildValues {
  input?: string[];
  out?: string;
  encoding?: string;
  tokenizer?: string;
  'seq-len'?: string;
  workers?: string;
  format?: string;
  'no-dedup'?: boolean;
  'near-dup'?: string;
  'shard-bytes'?: string;
  decontaminate?: string;
  'decontaminate-mode'?: string;
  'decontaminate-report'?: string;
}

function buildOptions(v: BuildValues): PrepOptions {
  const o: PrepOptions = {};
  if (v.input) o.inputs = v.input;
  if (v.out !== undefined) o.out = v.out;
  if (v.encoding !== undefined) o.encoding = v.encoding;
  if (v.tokenizer !== undefined) {
    if (v.encoding !== undefined) throw new UsageError('--tokenizer and --encoding: give one of them', 'prep');
    // resolved here: the tokenize kernels load it on worker threads, and the manifest records it
    o.tokenizer = resolve(v.tokenizer);
  }
  if (v['seq-len'] !== undefined) o.seqLen = parseCount('seq-len', v['seq-len']);
  if (v.workers !== undefined) {
    // 0 is allowed: everything on the main thread
    if (!/^\d+$/.test(v.workers))
      throw new UsageError(
        `--workers expects a number of threads (0 or more, this machine has ${availableParallelism()} cores), got ` +
          `"${v.workers}"`,
        'prep',
      );
    o.workers = Number(v.workers);
  }
  if (v.format !== undefined) {
    if (v.format !== 'ipc' && v.format !== 'parquet')
      throw new UsageError(`--format expects ipc or parquet, got "${v.format}"`, 'prep');
    o.format = v.format;
  }
  if (v['no-dedup']) o.dedup = false;
  if (v['near-dup'] !== undefined) {
    const j = Number(v['near-dup']);
    if (!/^(0?\.\d+)$/.test(v['near-dup'].trim()) || !(j > 0 && j < 1))
      throw new UsageError(
        `--near-dup expects a Jaccard similarity between 0 and 1 (say 0.8), got "${v['near-dup']}"`,
        'prep',
      );
    o.nearDup = j;
  }
  if (v['shard-bytes'] !== undefined) o.shardBytes = parseCount('shard-bytes', v['shard-bytes'], true);
  decontaminateOptions(v, o);
  return o;
}

/** --decontaminate TASKS (comma-separated names or task files) and its mode and report. */
function decontaminateOptions(v: BuildValues, o: PrepOptions): void {
  if (v.decontaminate !== undefined) {
    const tasks = v.decontaminate
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0);
    if (tasks.length === 0)
      throw new UsageError('--decontaminate expects eval task names, comma-separated (flowlm eval --list)', 'prep');
    o.decontaminate = tasks;
  }
  const mode = v['decontaminate-mode'];
  if (mode !== undefined) {
    if (mode !== 'drop' && mode !== 'flag')
      throw new UsageError(`--decontaminate-mode expects drop or flag, got "${mode}"`, 'prep');
    o.decontaminateMode = mode;
  }
  if (v['decontaminate-report'] !== undefined) o.decontaminateReport = v['decontaminate-report'];
  if ((o.decontaminateMode || o.decontaminateReport) && !o.decontaminate)
    throw new UsageError('--decontaminate-mode and --decontaminate-report need --decontaminate TASKS', 'prep');
}

/** The spec the command line asks for, not yet validated. */
async function specFor(file: string | undefined, options: PrepOptions, building: boolean): Promise<unknown> {
  if (file === undefined || building) {
    let build;
    try {
      build = await loadPrepBuilder(file ?? PREP_PIPELINE);
    } catch (err) {
      throw new SpecError(
        [
          {
            path: '(module)',
            message: `${err instanceof Error ? err.message : String(err)}${file ? '; build flags (--input, --out, ...) need a file exporting prepSpec(options), otherwise use --set' : ''}`,
          },
        ],
        file,
      );
    }
    return build(options); // a builder's SpecError (say, inputs of mixed kinds) is reported as such
  }
  return loadSpecFile(file);
}

export async function prepCommand(argv: string[], io: CliIO, registry: Registry = defaultRegistry): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: PREP_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'prep');
  }
  const { values, positionals } = args;
  if (values.help) {
    io.out(prepHelp());
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(
      `expected at most one pipeline file, got ${positionals.join(' ')} (several inputs: --input a --input b, or a quoted glob)`,
      'prep',
    );
  const { mode, budget } = runSettings(values, 'prep');
  const options = buildOptions(values);
  const building = Object.keys(BUILD_OPTIONS).some((k) => values[k as keyof BuildValues] !== undefined);
  const file = positionals[0];
  if (values.cluster === undefined && Object.keys(PREP_CLUSTER_OPTIONS).some((k) => k in values))
    throw new UsageError(
      '--job, --ack-wait, --max-deliver, --max-ack-pending, --dedup-partitions and --item-bytes need --cluster URL',
      'prep',
    );
  if (values.cluster !== undefined)
    return (await import('./cluster-command.ts')).prepClusterCommand(values, options, file, io);
  const source = file ?? 'pipelines/prep-default.ts';
  const load = async () =>
    resolveSpec(await specFor(file, options, building), values.set ?? [], budget, registry, source);
  return executePipeline(load, io, { json: values.json ?? false, mode, source, report: prepReport });
}
