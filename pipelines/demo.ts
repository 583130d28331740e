// `npm run demo`: the whole job on the embedded corpus (State of the Union addresses and Moby-Dick),
// on CPU, in under 10 minutes on 2 cores: prepare GPT-2-tokenized shards of 128-token rows, train a
// small GPT for a few minutes (pipelines/train-tiny.ts with a smaller model), evaluate its validation
// perplexity against the unigram baseline of the corpus, print a sample, and score the model with
// flowlm eval on held-out text that prep kept out of the training data (--decontaminate).
// The training is a run of the run store (as `flowlm train` records one); the demo ends by writing its
// report (flowlm report: OUT/report/report.html with the charts as SVG and PNG) and printing its path.
// Training uses every core by default (--devices auto: one data-parallel replica per core, or per GPU).
//   node --import tsx pipelines/demo.ts [--minutes M] [--steps N] [--out DIR] [--devices auto|cpu:N|gpu:all]
//                                       [--eval-limit N] [--val-rows N] [--input GLOB ...]
// --val-rows: held-out rows of 128 tokens for validation and the unigram baseline (default 256); fewer
// make a quick run (the tests) quicker, since the final validation then scores fewer tokens.
// --input: what prep reads instead of the whole embedded corpus (repeatable; flowlm prep --input), e.g.
// a slice of it for a quick run; decontamination still drops the held-out documents among them.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getEncoding } from 'js-tiktoken';
import { initBackend } from '../src/nn/backend/backend.ts';
import { loadModel, tiktokenName } from '../src/nn/checkpoint/load-model.ts';
import { generateTokens } from '../src/nn/model/sample.ts';
import { UnigramCounts, unigramPerplexity } from '../src/nn/eval/unigram.ts';
import { Rng } from '../src/runtime/rng.ts';
import { progressLine } from '../src/cli/train-command.ts';
import { devicesFor } from '../src/scheduler/devices.ts';
import { trainOnDevices } from '../src/scheduler/train-on-devices.ts';
import { physicalPlan } from '../src/scheduler/physical-plan.ts';
import { resolveSpecFile } from '../src/scheduler/plan.ts';
import { trainConfigOf } from '../src/scheduler/train-budgets.ts';
import { shardTrainData } from '../operators/train/shard-data.ts';
import { recordCommand } from '../src/runs/record-command.ts';
import { RunStore } from '../src/runs/store.ts';
import { storePath } from '../src/runs/store-path.ts';
import { writeReport } from '../src/ui/report.ts';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    devices: { type: 'string' },
    'eval-limit': { type: 'string' },
    'val-rows': { type: 'string' },
    input: { type: 'string', multiple: true },
  },
});
const OUT = resolve(opt.out ?? 'out/demo');
const STEPS = Number(opt.steps ?? 600);
const TRAIN_MINUTES = Number(opt.minutes ?? 6); // training stops here at the latest (with a checkpoint)
// evaluation: held-out text the training data must not contain (prep drops documents sharing a word
// 13-gram with it), then scored on the trained model; EVAL_LIMIT documents per task
const HELDOUT_TASKS = ['heldout-perplexity'];
const EVAL_TASKS = ['heldout-perplexity', 'lambada-moby-sotu', 'next-token-calibration'];
const EVAL_LIMIT = Number(opt['eval-limit'] ?? 40);
const VAL_ROWS = Number(opt['val-rows'] ?? 256);
if (!Number.isInteger(VAL_ROWS) || VAL_ROWS < 1)
  throw new Error(`demo: --val-rows ${opt['val-rows']} is not a positive whole number of rows; use e.g. --val-rows 64`);
const BATCH = 4;
const PROMPTS = ['The President said that', 'Call me Ishmael. Some years ago'];
const log = (line: string) => process.stderr.write(`${line}\n`);
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;

// -- 1. data: flowlm prep on the embedded corpus (a re-run keeps the verified shards)
const prep = join(OUT, 'prep');
log(`[demo] prep -> ${prep}`);
const bin = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
execFileSync(
  process.execPath,
  [
    bin,
    'prep',
    '--out',
    prep,
    '--encoding',
    'gpt2',
    '--seq-len',
    '128',
    '--decontaminate',
    HELDOUT_TASKS.join(','),
    ...(opt.input ?? []).flatMap((i) => ['--input', i]),
    '--progress',
    'none',
    '--json',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);

// -- 2. the run: the train-tiny graph with a model small enough for minutes of CPU
const spec = fileURLToPath(new URL('./train-tiny.ts', import.meta.url));
const runDir = join(OUT, 'run');
rmSync(runDir, { recursive: true, force: true });
const sets = [
  `trainer.runDir=${runDir}`,
  `data.dir=${prep}`,
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.dModel=64',
  'model.nLayer=2',
  // small batches: early in training, more updates per token learn faster
  `trainer.steps=${STEPS}`,
  `trainer.batchSize=${BATCH}`,
  'optimizer.lr.max=3e-3',
  'optimizer.lr.min=3e-4',
  'optimizer.lr.warmupSteps=20',
  'trainer.evalEvery=0',
  `data.holdoutRows=${VAL_ROWS}`,
  `trainer.evalBatches=${Math.ceil(VAL_ROWS / BATCH)}`, // every held-out row
  `trainer.checkpointEvery=${STEPS}`,
  'trainer.keepLast=1',
];
const graph = await resolveSpecFile(spec, { sets });
const cfg = trainConfigOf(graph, 'trainer')!.cfg;

// -- 3. the baseline: unigram probabilities from the training rows' token counts, on the held-out rows
const data = shardTrainData(cfg);
const counts = new UnigramCounts(50257);
for await (const b of data.trainOnce()) counts.add(b);
const unigram = await unigramPerplexity(counts, data.val!());
log(
  `[demo] ${elapsed()}: unigram baseline on ${unigram.tokens} held-out tokens: loss ${unigram.loss.toFixed(4)}, ` +
    `perplexity ${unigram.perplexity.toFixed(1)}`,
);

// -- 4. train on every core (at most TRAIN_MINUTES; the final evaluation covers every held-out row)
const devices = await devicesFor(opt.devices ?? 'auto');
log(`[demo] devices: ${devices.devices.map((d) => d.label).join(', ')}${devices.note ? ` (${devices.note})` : ''}`);
// recorded as a run of the store, as `flowlm train` records itself: its metrics and checkpoints go into
// it (the trainer writes into the current run), and the report at the end is drawn from it
let trainRunId = '';
let trained: Awaited<ReturnType<typeof trainOnDevices>> | undefined;
await recordCommand('train', [spec, ...sets.flatMap((s) => ['--set', s])], { err: log }, async () => {
  trainRunId = process.env.FLOWLM_RUN_ID!;
  trained = await trainOnDevices(devices, {
    file: spec,
    sets,
    resume: false,
    plan: physicalPlan(spec, graph, devices),
    hooks: {
      log: (l) => log(`[demo] ${l}`),
      signal: AbortSignal.timeout(TRAIN_MINUTES * 60_000),
      onStep: (p) => {
        if (p.step % 10 === 0) log(progressLine(p));
      },
    },
  });
  return 0;
});
const result = trained!;
const val = result.val!;
log(
  `[demo] ${elapsed()}: ${result.step} steps, ${Math.round(result.tokensPerS)} tok/s; val loss ` +
    `${val.loss.toFixed(4)}, perplexity ${val.perplexity.toFixed(1)} (unigram ${unigram.perplexity.toFixed(1)})`,
);

// -- 5. sample
await initBackend();
const { model, encoding } = await loadModel(runDir);
const enc = getEncoding(tiktokenName(encoding));
const samples = PROMPTS.map(
  (p, i) =>
    p + enc.decode(generateTokens(model, enc.encode(p), { maxTokens: 40, temperature: 0.8, topK: 40 }, new Rng(i))),
);
model.dispose();
for (const s of samples) process.stdout.write(`\n--- sample ---\n${s}\n`);

// -- 6. evaluate: flowlm eval on the checkpoint (held-out perplexity, last-word cloze, calibration)
log(`[demo] ${elapsed()}: flowlm eval --tasks ${EVAL_TASKS.join(',')} --limit ${EVAL_LIMIT}`);
const evalOut = join(OUT, 'eval');
const evalJson = execFileSync(
  process.execPath,
  [
    bin,
    'eval',
    '--checkpoint',
    runDir,
    '--tasks',
    EVAL_TASKS.join(','),
    '--limit',
    String(EVAL_LIMIT),
    '--out',
    evalOut,
    '--json',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
);
type Cell = { value: number | null; stderr: number | null; n: number; chance?: number };
const evaluation = JSON.parse(evalJson.trim().split('\n').at(-1)!) as { tasks: Record<string, Record<string, Cell>> };
const cell = (task: string, metric: string) => evaluation.tasks[task]?.[metric];
const shown: [string, string, string][] = [
  ['held-out perplexity (per word)', 'heldout-perplexity', 'word_perplexity'],
  ['held-out bits per byte', 'heldout-perplexity', 'bits_per_byte'],
  ['last-word cloze accuracy', 'lambada-moby-sotu', 'acc'],
  ['next-token accuracy', 'next-token-calibration', 'token_accuracy'],
  ['next-token ECE (15 bins)', 'next-token-calibration', 'ece'],
];
const table = shown
  .filter(([, t, m]) => cell(t, m))
  .map(([label, t, m]) => {
    const c = cell(t, m)!;
    const v = c.value === null ? '-' : c.value.toPrecision(4);
    const err = c.stderr === null ? '' : ` ± ${c.stderr.toPrecision(2)}`;
    const chance = c.chance === undefined ? '' : `  (chance ${c.chance})`;
    return `  ${label.padEnd(32)} ${(v + err).padEnd(20)} n=${c.n}${chance}`;
  });
process.stdout.write(`\n--- evaluation (${evalOut}) ---\n${table.join('\n')}\n`);

// -- 7. the report of the training run: summary and charts from the run store (flowlm report)
const store = RunStore.open(storePath());
const report = await writeReport({ store, runs: [trainRunId], outDir: join(OUT, 'report') });
store.close();
process.stdout.write(`\n--- report ---\n${report.html}\n`);

const summary = {
  ok: val.perplexity < unigram.perplexity,
  steps: result.step,
  stopped: result.stopped,
  trainSeconds: result.durationMs / 1000,
  tokensPerS: result.tokensPerS,
  devices: devices.devices.map((d) => d.label),
  backend: result.backend,
  params: result.params,
  finalTrainLoss: result.losses.at(-1),
  valLoss: val.loss,
  valPerplexity: val.perplexity,
  valTokens: val.tokens,
  unigramLoss: unigram.loss,
  unigramPerplexity: unigram.perplexity,
  unigramTokens: unigram.tokens,
  eval: evaluation.tasks,
  totalSeconds: (performance.now() - t0) / 1000,
  runDir,
  runId: trainRunId,
  report: report.html,
};
process.stdout.write(`${JSON.stringify(summary)}\n`);
