// `flowlm train <pipeline.ts>`: loads a training pipeline (default export: TrainPipeline in
// src/nn/train/trainer.ts; loaded by path, src/ never imports pipelines/) and runs it with a progress line
// per step on stderr; the pipeline writes metrics and checkpoints into its run directory. SIGINT or
// SIGTERM stops after the current step with a checkpoint (resume with --resume).
// Where it runs (src/scheduler/): one rank in this process (cpu:1), N rank threads (cpu:N), one process
// per GPU (gpu:*), or, with --rank/--world-size/--master (or torchrun's variables), this process as one
// rank of a multi-process run.
import { withCurrentRun } from '../runs/current-run.ts';
import { parseArgs } from 'node:util';
import type { StepProgress, TrainPipelineResult } from '../nn/train/trainer.ts';
import { FlowError } from '../core/errors.ts';
import { CollectiveError } from '../runtime/collectives/collective.ts';
import { DeviceError, devicesFor, type ResolvedDevices } from '../scheduler/devices.ts';
import { loadTrainModule, NotATrainPipeline, trainModuleKind } from '../scheduler/load-train-pipeline.ts';
import { isReplicated, physicalPlan } from '../scheduler/physical-plan.ts';
import { resolveSpecFile } from '../scheduler/plan.ts';
import type { PhysicalPlan } from '../scheduler/plan-types.ts';
import { rankSpec, RankSpecError, type RankSpec } from '../scheduler/rank-env.ts';
import { runAsRank } from '../scheduler/run-rank.ts';
import { trainOnDevices } from '../scheduler/train-on-devices.ts';
import { ModelParallelError } from '../scheduler/model-parallel-config.ts';
import { modelParallelChoice, wantsModelParallel, type ModelParallelFlags } from '../scheduler/model-parallel-flags.ts';
import { ModelParallelRunError, trainModelParallel } from '../scheduler/model-parallel-train.ts';
import { peakRssMb } from '../runtime/peak-rss.ts';
import { UsageError, type CliIO } from './io.ts';
import { trainHelp } from './train-help.ts';

const fmtEta = (s: number) =>
  !Number.isFinite(s)
    ? '?'
    : s >= 3600
      ? `${(s / 3600).toFixed(1)}h`
      : s >= 60
        ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
        : `${Math.round(s)}s`;

export function progressLine(p: StepProgress): string {
  return (
    `step ${p.step}/${p.steps} | loss ${p.loss.toFixed(4)} | lr ${p.lr.toExponential(2)} | grad-norm ` +
    `${p.gradNorm.toFixed(3)} | ${Math.round(p.tokensPerS)} tok/s | ETA ${fmtEta(p.etaS)}`
  );
}

const TRAIN_OPTIONS = {
  resume: { type: 'boolean' },
  set: { type: 'string', multiple: true, short: 's' },
  json: { type: 'boolean' },
  every: { type: 'string' },
  'time-limit': { type: 'string' },
  devices: { type: 'string' },
  rank: { type: 'string' },
  'world-size': { type: 'string' },
  master: { type: 'string' },
  tp: { type: 'string' },
  pp: { type: 'string' },
  'micro-batches': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Where this invocation trains: as one rank of a multi-process run, or on resolved devices. */
type Placement = { kind: 'rank'; rank: RankSpec } | { kind: 'devices'; devices: ResolvedDevices };

async function placement(values: {
  devices?: string;
  rank?: string;
  'world-size'?: string;
  master?: string;
}): Promise<Placement> {
  try {
    const rank = rankSpec({ rank: values.rank, worldSize: values['world-size'], master: values.master });
    if (rank) return { kind: 'rank', rank };
    return { kind: 'devices', devices: await devicesFor(values.devices ?? 'auto') };
  } catch (err) {
    if (err instanceof RankSpecError || err instanceof DeviceError) throw new UsageError(err.message, 'train');
    throw err;
  }
}

export async function trainCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, strict: true, options: TRAIN_OPTIONS });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), 'train');
  }
  const { values, positionals } = args;
  if (values.help) {
    io.out(trainHelp());
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new UsageError(
      file
        ? `one pipeline file expected, got ${positionals.join(' ')}`
        : 'which training pipeline? e.g. flowlm train pipelines/train-tiny.ts',
      'train',
    );
  const every = values.every === undefined ? 1 : Number(values.every);
  if (!Number.isInteger(every) || every < 1)
    throw new UsageError(`--every expects a whole number of steps >= 1, got "${values.every}"`, 'train');
  const timeLimit = values['time-limit'] === undefined ? undefined : Number(values['time-limit']);
  if (timeLimit !== undefined && !(timeLimit > 0))
    throw new UsageError(`--time-limit expects seconds > 0, got "${values['time-limit']}"`, 'train');
  if (wantsModelParallel(values)) {
    if (timeLimit !== undefined) throw new UsageError('--time-limit does not combine with --tp/--pp', 'train');
    return modelParallel(file, values, every, io);
  }
  const place = await placement(values);
  const sets = values.set ?? [];
  const resume = values.resume === true;

  const stop = new AbortController();
  let signalCode = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    signalCode = sig === 'SIGINT' ? 130 : 143;
    if (place.kind !== 'rank' || place.rank.rank === 0)
      io.err(`flowlm train: ${sig}: stopping after this step (a second signal exits at once)`);
    stop.abort();
  };
  const hooks = {
    signal: stop.signal,
    log: (line: string) => io.err(`flowlm train: ${line}`),
    onStep: (p: StepProgress) => {
      if (p.step % every === 0 || p.step === p.steps) io.err(progressLine(p));
    },
  };
  // the budget stops the run the way a signal does, with exit code 0
  let timeUp = false;
  const budget =
    timeLimit === undefined
      ? undefined
      : setTimeout(() => {
          timeUp = true;
          if (place.kind !== 'rank' || place.rank.rank === 0)
            io.err(`flowlm train: --time-limit ${timeLimit} s reached: stopping after this step`);
          stop.abort();
        }, timeLimit * 1000);
  budget?.unref();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let result: TrainPipelineResult | undefined;
    let devices: string[];
    let worldSize: number;
    if (place.kind === 'rank') {
      const { rank } = place;
      worldSize = rank.worldSize;
      devices = [process.env.CUDA_VISIBLE_DEVICES ? `gpu:${process.env.CUDA_VISIBLE_DEVICES}` : 'cpu'];
      const run = await loadRun(file);
      if (rank.rank === 0) {
        io.err(
          `flowlm train: rank 0 of ${rank.worldSize} (${rank.source === 'env' ? 'from RANK/WORLD_SIZE' : rank.source === 'flags' ? 'from the flags' : 'from flags and environment'}), ` +
            `${rank.worldSize > 1 ? `master ${rank.master.host}:${rank.master.port}` : 'alone'}`,
        );
      }
      const out = await runAsRank(run, rank, {
        sets,
        resume,
        stop,
        hooks: rank.rank === 0 ? hooks : { signal: stop.signal },
      });
      if (rank.rank > 0) return out.stopped && !timeUp ? signalCode || 130 : 0; // other ranks print only errors
      result = out;
    } else {
      const d = place.devices;
      worldSize = d.devices.length;
      devices = d.devices.map((x) => x.label);
      io.err(`flowlm train: devices ${devices.join(', ')}${d.note ? ` (${d.note})` : ''}`);
      if (d.kind === 'cpu') await loadRun(file); // a bad module is a usage error (exit 2)
      const plan = await planOf(file, sets, d);
      result = await trainOnDevices(d, { file, sets, resume, hooks, every, plan });
    }
    const { losses, ...rest } = result;
    withCurrentRun((r) => r.mergeEnv({ backend: result!.backend, devices, worldSize }));
    // peak RSS of this process (with rank threads, all of them; GPU ranks are processes of their own)
    const summary = {
      ...rest,
      firstLoss: losses[0] ?? null,
      finalLoss: losses.at(-1) ?? null,
      stepsRun: losses.length,
      devices,
      worldSize,
      peakRssMb: peakRssMb(),
    };
    if (values.json) io.out(JSON.stringify(summary));
    else
      io.out(
        `trained ${result.startStep} -> ${result.step} steps in ${(result.durationMs / 1000).toFixed(1)} s, ` +
          `${Math.round(result.tokensPerS)} tok/s` +
          ` on ${worldSize === 1 ? devices[0] : `${worldSize} ranks (${devices.join(', ')})`}` +
          `${result.val ? `; val loss ${result.val.loss.toFixed(4)}, perplexity ${result.val.perplexity.toFixed(2)}` : ''}; run: ${result.runDir}`,
      );
    return result.stopped && !timeUp ? signalCode || 130 : 0;
  } catch (err) {
    // a failed rank is the run's outcome, not an internal error: say which rank and why
    const rankPrefix = place.kind === 'rank' ? `rank ${place.rank.rank} of ${place.rank.worldSize} failed: ` : '';
    // an operator's failure (a FlowError naming it) is the run's outcome too
    if (err instanceof UsageError || (!(err instanceof CollectiveError) && !(err instanceof FlowError) && !rankPrefix))
      throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    io.err(
      `flowlm train: ${rankPrefix}${e instanceof CollectiveError || e.name === 'Error' ? '' : `${e.name}: `}${e.message}`,
    );
    if (process.env.FLOWLM_DEBUG === '1' && e.stack) io.err(e.stack);
    return 1;
  } finally {
    clearTimeout(budget);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The physical plan of a spec file on the resolved devices (a TrainPipeline function module has none):
 * every rank runs it, and the summary records it. An invalid spec is reported before any rank starts. */
async function planOf(file: string, sets: string[], d: ResolvedDevices): Promise<PhysicalPlan | undefined> {
  if ((await trainModuleKind(file)) === 'function') return undefined;
  const resolved = await resolveSpecFile(file, { sets });
  if (!isReplicated(resolved))
    throw new UsageError(
      `${file} has no training chain (no operator placed on every replica, such as train/forward-backward); run it ` +
        `with flowlm run`,
      'train',
    );
  return physicalPlan(file, resolved, d);
}

async function loadRun(file: string) {
  try {
    return (await loadTrainModule(file)).run;
  } catch (err) {
    if (err instanceof NotATrainPipeline) throw new UsageError(err.message, 'train');
    throw err;
  }
}

/** --tp / --pp: the run on a model-parallel grid of CPU worker threads (src/scheduler/model-parallel-train.ts). */
async function modelParallel(
  file: string,
  values: ModelParallelFlags & { set?: string[]; json?: boolean },
  every: number,
  io: CliIO,
): Promise<number> {
  let choice;
  let devices;
  try {
    choice = modelParallelChoice(values);
    devices = await devicesFor(choice.devices);
  } catch (err) {
    if (err instanceof ModelParallelError || err instanceof DeviceError) throw new UsageError(err.message, 'train');
    throw err;
  }
  const n = devices.devices.length;
  io.err(`flowlm train: ${choice.kind} ${choice.size} x dp ${n / choice.size} on ${n} CPU thread${n === 1 ? '' : 's'}`);
  try {
    const result = await trainModelParallel({
      ...choice,
      file,
      sets: values.set ?? [],
      devices: n,
      hooks: {
        log: (line) => io.err(`flowlm train: ${line}`),
        onStep: (p) => {
          if (p.step % every === 0 || p.step === p.steps) io.err(progressLine(p));
        },
      },
    });
    const { losses, grid, ...rest } = result;
    const labels = devices.devices.map((d) => d.label);
    const summary = {
      ...rest,
      firstLoss: losses[0] ?? null,
      finalLoss: losses.at(-1) ?? null,
      stepsRun: losses.length,
    };
    if (values.json)
      io.out(JSON.stringify({ ...summary, devices: labels, worldSize: n, ...grid, peakRssMb: peakRssMb() }));
    else
      io.out(
        `trained 0 -> ${result.step} steps in ${(result.durationMs / 1000).toFixed(1)} s, ` +
          `${Math.round(result.tokensPerS)} tok/s on tp ${grid.tp} x pp ${grid.pp} x dp ${grid.dp}; run: ${result.runDir}`,
      );
    return 0;
  } catch (err) {
    if (err instanceof ModelParallelError) throw new UsageError(err.message, 'train');
    if (!(err instanceof ModelParallelRunError || err instanceof FlowError)) throw err;
    io.err(`flowlm train: ${err.message}`);
    return 1;
  }
}
