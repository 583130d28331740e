// `flowlm train <pipeline.ts>`: loads a training pipeline (default export: TrainPipeline in
// src/nn/trainer.ts; loaded by path, src/ never imports pipelines/) and runs it with a progress line
// per step on stderr; the pipeline writes metrics and checkpoints into its run directory. SIGINT or
// SIGTERM stops after the current step with a checkpoint (resume with --resume).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { StepProgress, TrainPipeline } from '../nn/trainer.ts';
import { UsageError, type CliIO } from './io.ts';

export const TRAIN_USAGE = 'flowlm train <pipeline.ts> [--resume] [--set key=value ...] [--json] [--every N]';

export function trainHelp(): string {
  return `Usage: ${TRAIN_USAGE}

Trains the model a training pipeline describes (e.g. pipelines/train-tiny.ts, whose default export builds
the run from its config, the shard dataset and src/nn/trainer.ts). Checkpoints, metrics.jsonl and
metrics.parquet go to the config's runDir.

Options:
      --resume            continue from the run directory's latest checkpoint (bit for bit)
  -s, --set key=value     override a config field; repeatable; dotted paths (lr.max=3e-4, model.nLayer=2,
                          data.train=out/prep); values are JSON when they parse, else strings
      --json              one JSON summary object as the last stdout line
      --every N           a progress line every N steps (default 1)
  -h, --help              show help

Progress (stderr): step, loss, lr, grad-norm, tokens/s, ETA. SIGINT/SIGTERM: stop after the current step,
checkpoint, exit 130/143. Exit codes: 0 done, 1 failed, 2 bad usage.`;
}

const fmtEta = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

export function progressLine(p: StepProgress): string {
  return `step ${p.step}/${p.steps} | loss ${p.loss.toFixed(4)} | lr ${p.lr.toExponential(2)} | grad-norm ${p.gradNorm.toFixed(3)} | ${Math.round(p.tokensPerS)} tok/s | ETA ${fmtEta(p.etaS)}`;
}

async function loadPipeline(file: string): Promise<TrainPipeline> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown; train?: unknown };
  const fn = mod.default ?? mod.train;
  if (typeof fn !== 'function') throw new UsageError(`${file} has no default export (or export named "train") that is a function of TrainPipelineOptions`, 'train');
  return fn as TrainPipeline;
}

export async function trainCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { resume: { type: 'boolean' }, set: { type: 'string', multiple: true, short: 's' }, json: { type: 'boolean' }, every: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { io.out(trainHelp()); return 0; }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError(file ? `one pipeline file expected, got ${positionals.join(' ')}` : 'which training pipeline? e.g. flowlm train pipelines/train-tiny.ts', 'train');
  const every = values.every === undefined ? 1 : Number(values.every);
  if (!Number.isInteger(every) || every < 1) throw new UsageError(`--every expects a whole number of steps >= 1, got "${values.every}"`, 'train');
  const run = await loadPipeline(file);

  const stop = new AbortController();
  let signalCode = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    signalCode = sig === 'SIGINT' ? 130 : 143;
    io.err(`flowlm train: ${sig}: stopping after this step (a second signal exits at once)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run({
      sets: values.set ?? [], resume: values.resume === true,
      hooks: {
        signal: stop.signal,
        log: (line) => io.err(`flowlm train: ${line}`),
        onStep: (p) => { if (p.step % every === 0 || p.step === p.steps) io.err(progressLine(p)); },
      },
    });
    const { losses, ...rest } = result;
    const summary = { ...rest, firstLoss: losses[0] ?? null, finalLoss: losses.at(-1) ?? null, stepsRun: losses.length };
    if (values.json) io.out(JSON.stringify(summary));
    else io.out(`trained ${result.startStep} -> ${result.step} steps in ${(result.durationMs / 1000).toFixed(1)} s, ${Math.round(result.tokensPerS)} tok/s`
      + `${result.val ? `; val loss ${result.val.loss.toFixed(4)}, perplexity ${result.val.perplexity.toFixed(2)}` : ''}; run: ${result.runDir}`);
    return result.stopped ? signalCode || 130 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
