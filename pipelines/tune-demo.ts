// `npm run tune-demo`: a real search over the demo's model (pipelines/demo.ts's GPT on the embedded
// corpus): flowlm tune over the peak learning rate and the warm-up, two trials at once on the two
// cores, TPE after a few random trials, median pruning on the validation loss every 20 steps. Every
// trial trains the same number of steps of the same model and batch (about a minute each), so the
// trials have equal training compute and, on one core each, equal training time (the summary gives
// their durations); training is deterministic, so a trial's loss is its config's, not the machine
// load's. Trial 0 is the demo's default (lr 3e-3, warm-up 20), so "beats the default" is read off the
// trials table. Ends with the study's report (flowlm report) and its path.
//   node --import tsx pipelines/tune-demo.ts [--trials N] [--steps N] [--out DIR] [--seed S] [--study NAME]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoPrepArgs, flowlm } from './flowlm-child.ts';
import { RunStore } from '../src/runs/store.ts';
import { storePath } from '../src/runs/store-path.ts';
import { writeReport } from '../src/ui/report.ts';

const { values: opt } = parseArgs({
  options: {
    trials: { type: 'string' },
    steps: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    study: { type: 'string' },
  },
});
const OUT = resolve(opt.out ?? 'out/tune-demo');
const TRIALS = Number(opt.trials ?? 16);
const STEPS = Number(opt.steps ?? 100);
const STUDY = opt.study ?? `tune-demo-${Date.now()}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

// -- 1. the demo's data (a re-run keeps verified shards)
const prep = resolve('out/demo/prep');
if (!existsSync(join(prep, 'manifest.json'))) {
  log(`[tune-demo] prep -> ${prep}`);
  await flowlm([...demoPrepArgs(prep), '--json'], 'tune-demo');
}

// -- 2. the search: the demo's model and batch; what varies is the space
const sets = [
  `data.dir=${prep}`,
  'model.preset="micro"',
  'model.vocabSize=50257',
  'model.dModel=64',
  'model.nLayer=2',
  'trainer.batchSize=4',
  `trainer.steps=${STEPS}`,
  'optimizer.lr.min=3e-4',
  'data.holdoutRows=64',
  'trainer.evalEvery=20',
  'trainer.evalBatches=8',
  'trainer.checkpointEvery=1000',
  'trainer.keepLast=1',
];
const out = await flowlm(
  [
    'tune',
    here('./train-tiny.ts'),
    '--space',
    here('./tune-demo.space.json'),
    '--trials',
    String(TRIALS),
    '--parallel',
    '2',
    '--devices',
    'cpu:2',
    '--sampler',
    'tpe',
    '--sampler-option',
    'nStartupTrials=5',
    '--pruner',
    'median',
    '--pruner-option',
    'nStartupTrials=4',
    '--pruner-option',
    'nWarmupSteps=50',
    '--seed',
    opt.seed ?? '0',
    '--enqueue',
    'optimizer.lr.max=0.003,optimizer.lr.warmupSteps=20',
    '--study',
    STUDY,
    '--out',
    join(OUT, STUDY),
    '--progress',
    'plain',
    '--json',
    ...sets.flatMap((s) => ['--set', s]),
  ],
  'tune-demo',
);
const summary = JSON.parse(out.trim().split('\n').at(-1)!) as {
  best: { number: number; value: number; params: Record<string, number> } | null;
  trials: { number: number; state: string; value: number | null; params: Record<string, number> }[];
};
process.stdout.write(`${out.trim().split('\n').slice(0, -1).join('\n')}\n`);
const baseline = summary.trials[0]!;
const best = summary.best;
const result = {
  study: STUDY,
  trials: summary.trials.length,
  pruned: summary.trials.filter((t) => t.state === 'pruned').length,
  stepsPerTrial: STEPS,
  defaultValLoss: baseline.value,
  bestValLoss: best?.value ?? null,
  bestTrial: best?.number ?? null,
  bestParams: best?.params ?? null,
  beatsDefault: best !== null && baseline.value !== null && best.value < baseline.value,
};

// -- 3. the study's report: every trial's curves and the trials table (flowlm report)
const store = RunStore.open(storePath());
const study = store.study(STUDY)!;
// equal training time: every complete trial's wall-clock seconds (start to end of its process)
const seconds = store
  .trials(study.id)
  .filter((r) => r.status === 'finished' && r.endedAt !== null)
  .map((r) => Math.round((r.endedAt! - r.startedAt) / 100) / 10);
const report = await writeReport({
  store,
  runs: store.trials(study.id).map((r) => r.id),
  outDir: join(OUT, STUDY, 'report'),
});
store.close();
process.stdout.write(
  `\n--- report ---\n${report.html}\n${JSON.stringify({ ...result, completeTrialSeconds: seconds, report: report.html })}\n`,
);
