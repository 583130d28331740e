// `flowlm tune`: a hyperparameter study over a training pipeline (src/tune/study-runner.ts), kept in
// the run store: the study row holds what it was made with, each trial is a run of the study, and this
// command's own run gets the best value per trial as metrics and the trials table as an artifact.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { currentRun } from '../runs/current-run.ts';
import { RunStore } from '../runs/store.ts';
import { storePath } from '../runs/store-path.ts';
import { AtomicFile } from '../runtime/files.ts';
import { parseSearchSpace } from '../tune/space.ts';
import { makePruner, makeSampler, PRUNERS, SAMPLERS, StrategyError, type Options } from '../tune/strategy.ts';
import { bestTrial, runStudy, type StudyPlan } from '../tune/study-runner.ts';
import { TrialDevicesError, trialDevices } from '../tune/trial-devices.ts';
import type { Direction, ParamValue, SearchSpace } from '../tune/types.ts';
import { UsageError, type CliIO } from './io.ts';
import { fmtValue, trialsTable, tuneProgress } from './tune-progress.ts';
import { tuneHelp } from './tune-help.ts';

const OPTIONS = {
  space: { type: 'string' },
  trials: { type: 'string' },
  parallel: { type: 'string' },
  devices: { type: 'string' },
  sampler: { type: 'string' },
  'sampler-option': { type: 'string', multiple: true },
  pruner: { type: 'string' },
  'pruner-option': { type: 'string', multiple: true },
  metric: { type: 'string' },
  direction: { type: 'string' },
  seed: { type: 'string' },
  study: { type: 'string' },
  out: { type: 'string' },
  'time-limit': { type: 'string' },
  enqueue: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true, short: 's' },
  progress: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What a study is made with: stored with it, and compared when a study is resumed. */
interface StudySpec {
  command: 'train';
  file: string;
  sets: string[];
  space: SearchSpace;
  sampler: { name: (typeof SAMPLERS)[number]; seed: number; options: Options };
  pruner: { name: (typeof PRUNERS)[number]; options: Options };
  metric: string;
  direction: Direction;
  timeLimitS?: number;
  enqueued: Record<string, ParamValue>[];
}

const usage = (m: string) => new UsageError(m, 'tune');
const jsonish = (raw: string): ParamValue => {
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  } catch {}
  return raw;
};
function keyValues(list: readonly string[], what: string): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const kv of list.flatMap((l) => l.split(','))) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw usage(`${what} expects key=value, got "${kv}"`);
    out[kv.slice(0, eq)] = jsonish(kv.slice(eq + 1));
  }
  return out;
}
const whole = (v: string | undefined, flag: string, dflt: number, min = 1): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usage(`${flag} expects a whole number >= ${min}, got "${v}"`);
  return n;
};
function oneOf<T extends string>(v: string | undefined, list: readonly T[], flag: string, dflt: T): T {
  if (v === undefined) return dflt;
  if (!(list as readonly string[]).includes(v)) throw usage(`${flag} is one of ${list.join(', ')}, got "${v}"`);
  return v as T;
}

function specFromFlags(file: string, v: Record<string, unknown>): StudySpec {
  const spaceFile = v.space as string | undefined;
  if (!spaceFile) throw usage('--space FILE is needed: the JSON search space (see flowlm tune --help)');
  if (!existsSync(spaceFile)) throw usage(`--space ${spaceFile}: no such file`);
  let space: SearchSpace;
  try {
    space = parseSearchSpace(readFileSync(spaceFile, 'utf8'), spaceFile);
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const timeLimit = v['time-limit'] === undefined ? undefined : Number(v['time-limit']);
  if (timeLimit !== undefined && !(timeLimit > 0))
    throw usage(`--time-limit expects seconds > 0, got "${v['time-limit']}"`);
  const enqueued = ((v.enqueue as string[] | undefined) ?? []).map((e) => keyValues([e], '--enqueue'));
  for (const e of enqueued)
    for (const k of Object.keys(space))
      if (!(k in e)) throw usage(`--enqueue ${JSON.stringify(e)} lacks "${k}" of the space`);
  return {
    command: 'train',
    file: resolve(file),
    sets: (v.set as string[] | undefined) ?? [],
    space,
    sampler: {
      name: oneOf(v.sampler as string | undefined, SAMPLERS, '--sampler', 'tpe'),
      seed: whole(v.seed as string | undefined, '--seed', 0, 0),
      options: keyValues((v['sampler-option'] as string[] | undefined) ?? [], '--sampler-option') as Options,
    },
    pruner: {
      name: oneOf(v.pruner as string | undefined, PRUNERS, '--pruner', 'median'),
      options: keyValues((v['pruner-option'] as string[] | undefined) ?? [], '--pruner-option') as Options,
    },
    metric: (v.metric as string | undefined) ?? 'val/loss',
    direction: oneOf(v.direction as string | undefined, ['minimize', 'maximize'] as const, '--direction', 'minimize'),
    timeLimitS: timeLimit,
    enqueued,
  };
}

export async function tuneCommand(argv: string[], io: CliIO): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  const { values: v, positionals } = args;
  if (v.help) {
    io.out(tuneHelp());
    return 0;
  }
  const store = RunStore.open(storePath());
  try {
    const existing = v.study ? store.study(v.study) : undefined;
    let spec: StudySpec;
    if (existing) {
      const { trials: _, ...stored } = existing.spec as StudySpec & { trials?: number };
      spec = stored;
      if (positionals[0] || v.space) {
        const given = specFromFlags(positionals[0] ?? spec.file, { ...v, space: v.space });
        const differs = (Object.keys(given) as (keyof StudySpec)[]).filter(
          (k) => JSON.stringify(given[k]) !== JSON.stringify(spec[k]),
        );
        if (differs.length)
          throw usage(
            `study "${existing.name}" was made with other ${differs.join(', ')}; resume it with --study alone, or name a new study`,
          );
      }
      io.err(`flowlm tune: resuming study "${existing.name}"`);
    } else {
      if (positionals.length !== 1)
        throw usage('which training pipeline? e.g. flowlm tune pipelines/train-tiny.ts --space space.json --trials 8');
      spec = specFromFlags(positionals[0]!, v);
    }
    const name =
      v.study ??
      `${basename(spec.file, extname(spec.file))}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
    // the trial count is stored too: resuming with --study alone runs the study to it
    const trials = whole(v.trials, '--trials', (existing?.spec as { trials?: number } | undefined)?.trials ?? 0);
    if (trials < 1) throw usage('--trials N is needed: how many trials the study runs');
    const study =
      existing ??
      store.createStudy({ name, direction: spec.direction, metric: spec.metric, spec: { ...spec, trials } });
    const parallel = whole(v.parallel, '--parallel', 1);
    let devices: string[];
    let sampler;
    let pruner;
    try {
      devices = trialDevices(v.devices ?? `cpu:${parallel}`, parallel);
      sampler = makeSampler(spec.sampler.name, spec.space, { ...spec.sampler, direction: spec.direction });
      pruner = makePruner(spec.pruner.name, { direction: spec.direction, options: spec.pruner.options });
    } catch (err) {
      if (err instanceof TrialDevicesError || err instanceof StrategyError) throw usage(err.message);
      throw err;
    }
    const outDir = resolve(v.out ?? join('runs', 'tune', study.name));
    const plan: StudyPlan = {
      ...spec,
      trials,
      parallel,
      devices,
      runDirKey: 'trainer.runDir',
      outDir,
    };
    const recorder = currentRun();
    recorder?.logParams({ study: study.name });
    recorder?.setRunDir(outDir);
    io.err(
      `flowlm tune: study "${study.name}", ${trials} trials, ${parallel} at once on ${devices.join(' + ')}, ` +
        `${spec.sampler.name} sampler (seed ${spec.sampler.seed}), ${spec.pruner.name} pruner, ${spec.direction} ${spec.metric}`,
    );
    const progress = tuneProgress(io.stderr, spec.metric, spec.direction, (v.progress ?? 'auto') as 'auto');
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let all;
    try {
      all = await runStudy(store, study, plan, { sampler, pruner }, { onEvent: progress.onEvent, signal: stop.signal });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const best = bestTrial(all, spec.direction);
    // this command's run: the best value after each trial, and the trials table
    let bestSoFar: number | undefined;
    const points = all.flatMap((t) => {
      if (
        t.value !== undefined &&
        (bestSoFar === undefined || (spec.direction === 'minimize' ? t.value < bestSoFar : t.value > bestSoFar))
      )
        bestSoFar = t.value;
      const now = Date.now();
      return [
        ...(t.value === undefined ? [] : [{ key: `trial/${spec.metric}`, step: t.number, value: t.value, time: now }]),
        ...(bestSoFar === undefined
          ? []
          : [{ key: `best/${spec.metric}`, step: t.number, value: bestSoFar, time: now }]),
      ];
    });
    const table = trialsTable(all, spec.metric, spec.direction);
    const tableFile = join(outDir, 'trials.txt');
    const f = new AtomicFile(tableFile);
    await f.write(`${table.join('\n')}\n`);
    await f.commit();
    if (recorder) {
      recorder.logMetrics(points);
      recorder.logArtifact(tableFile, 'trials-table');
    }
    io.out(table.join('\n'));
    const summary = best
      ? `best: trial ${best.number}, ${spec.metric} ${fmtValue(best.value)}, ${Object.entries(best.params)
          .map(([k, x]) => `${k}=${fmtValue(x)}`)
          .join(' ')}`
      : 'no trial completed';
    io.out(summary);
    if (v.json)
      io.out(
        JSON.stringify({
          study: study.name,
          studyId: study.id,
          metric: spec.metric,
          direction: spec.direction,
          best: best ? { number: best.number, value: best.value, params: best.params } : null,
          trials: all.map((t) => ({
            number: t.number,
            state: t.state,
            params: t.params,
            value: t.value ?? null,
            intermediate: Object.fromEntries(t.intermediate),
          })),
        }),
      );
    if (stop.signal.aborted) return 130;
    return best ? 0 : 1;
  } finally {
    store.close();
  }
}
