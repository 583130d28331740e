// The post-training demonstration's second half (issue 14 item 7): align the fine-tuned model (SFT) with
// the ham/spam preference of SpamAssassin's real labels, and judge the result by more than the reward.
//   1. pairs: pipelines/pair-prep.ts, train and held-out splits (a ham subject as the prompt, the ham
//      email's body chosen over a spam body), and the splits' prompts as JSONL
//   2. reward model: flowlm train, objective 'reward' (model.rewardHead), from the SFT model as
//      InstructGPT starts it; its accuracy on every held-out pair
//   3. PPO: flowlm run pipelines/ppo.ts from the SFT model against the reward model, adaptive KL toward
//      klTarget, on the train prompts; mean reward and KL per iteration from its metrics.jsonl
//   4. DPO: flowlm train, objective 'dpo' (beta), from the SFT model (the frozen reference) on the pairs
//   5. judges on held-out prompts: the SFT, PPO and DPO policies' seeded samples, each scored by the reward
//      model, given its KL to the SFT model (policy-report.ts), and read by a separate Naive Bayes ham/spam
//      classifier trained on emails disjoint from the reward model's pairs (operators/eval/ham-classifier.ts):
//      a reward rise the classifier does not share would be reward hacking
// Small and short on 2 CPU cores: the figures show the mechanics, not what alignment reaches at scale.
// Run by pipelines/post-train-demo.ts (its --rm-steps, --ppo-iterations, ... options), after its fine-tuning.
import { rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { z } from 'zod';
import { trainHamClassifier } from '../operators/eval/ham-classifier.ts';
import { meanOf, policyReport, type Generation } from '../operators/posttrain/policy-report.ts';
import { spamPreferencePairs } from '../operators/posttrain/preference-pairs.ts';
import { loadRewardModel } from '../operators/posttrain/reward-model-file.ts';
import { initBackend } from '../src/nn/backend/backend.ts';
import { loadModel } from '../src/nn/checkpoint/load-model.ts';
import { flowlm, recordedSettings, trainTiny, type TrainSummary } from './flowlm-child.ts';

export interface AlignOptions {
  /** the fine-tuned (SFT) checkpoint: the start of every run and the reference */
  sft: string;
  out: string;
  devices: string;
  encoding: string;
  /** the model's context: each half of a pair row */
  seqLen: number;
  /** the SFT model's config as --set model.K=V overrides */
  modelSets: string[];
  rmSteps: number;
  dpoSteps: number;
  ppoIterations: number;
  /** rollouts per PPO iteration (two minibatches of half) */
  ppoBatch: number;
  klTarget: number;
  evalPrompts: number;
  /** held-out pairs the reward model and DPO are validated on (at most all of them) */
  valPairs?: number;
  samples: number;
  maxTokens: number;
  log: (line: string) => void;
}

export const ALIGN_DEFAULTS = {
  rmSteps: 100,
  dpoSteps: 40,
  ppoIterations: 12,
  ppoBatch: 16,
  klTarget: 6, // TRL's default target (a sequence KL, nats)
  evalPrompts: 24,
  samples: 2,
  maxTokens: 24,
} as const;

const PAIR_SPEC = fileURLToPath(new URL('./pair-prep.ts', import.meta.url));
const PPO_SPEC = fileURLToPath(new URL('./ppo.ts', import.meta.url));
const BATCH = 4; // pairs per rank and step

async function writePrompts(split: 'train' | 'heldout', file: string): Promise<string[]> {
  const batches = await lastValueFrom(spamPreferencePairs({ split }).pipe(toArray()));
  const prompts = batches.flatMap((b) => b.toArray().map((r) => String((r as { prompt: string }).prompt)));
  await writeFile(file, prompts.map((p) => `${JSON.stringify({ prompt: p })}\n`).join(''));
  return prompts;
}

const Metric = z.object({ step: z.number(), name: z.string(), value: z.number() });
/** A PPO run's per-iteration metric `name`, in iteration order. */
async function ppoSeries(runDir: string, name: string): Promise<number[]> {
  const lines = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');
  const rows = lines.map((l) => Metric.parse(JSON.parse(l))).filter((r) => r.name === name);
  return rows.sort((a, b) => a.step - b.step).map((r) => r.value);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export interface PolicyFigures {
  reward: number;
  kl: number;
  pHam: number;
  meanTokens: number;
  generations: number;
  example: string;
}

export async function align(o: AlignOptions) {
  const t0 = performance.now();
  const at = () => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  // a fresh run each time: the trainer refuses a run directory that holds another run's checkpoints
  for (const d of ['rm', 'ppo', 'dpo']) rmSync(join(o.out, d), { recursive: true, force: true });
  // -- 1. pairs and prompts
  const pairs = { train: join(o.out, 'pairs'), heldout: join(o.out, 'pairs-heldout') };
  for (const split of ['train', 'heldout'] as const) {
    await flowlm(
      [
        'run',
        PAIR_SPEC,
        '--progress',
        'none',
        ...['--set', `read.split="${split}"`, '--set', `write.dir=${pairs[split]}`],
        ...['--set', `pack.seqLen=${o.seqLen}`, '--set', `pack.encoding="${o.encoding}"`],
        ...['--set', `write.encoding="${o.encoding}"`],
      ],
      'post-train-align',
    );
  }
  const promptFile = join(o.out, 'prompts-train.jsonl');
  await writePrompts('train', promptFile);
  // one prompt per pair: the held-out prompts count the held-out pairs
  const allHeldout = await writePrompts('heldout', join(o.out, 'prompts-heldout.jsonl'));
  const heldoutPrompts = allHeldout.slice(0, o.evalPrompts);
  const heldoutPairs = allHeldout.length;

  // -- 2. reward model from the SFT model; validation over every held-out pair
  const common = (runDir: string, steps: number, lr: number) => [
    ...o.modelSets,
    `trainer.runDir=${runDir}`,
    `trainer.init.from=${o.sft}`,
    `trainer.encoding="${o.encoding}"`,
    `data.dir=${pairs.train}`,
    `data.val=${pairs.heldout}`,
    `trainer.steps=${steps}`,
    `trainer.batchSize=${BATCH}`,
    `optimizer.lr.max=${lr}`,
    `optimizer.lr.min=${lr / 10}`,
    `optimizer.lr.warmupSteps=${Math.max(1, Math.round(steps / 10))}`,
    'optimizer.weightDecay=0',
    `trainer.evalEvery=${steps}`,
    `trainer.evalBatches=${Math.ceil(Math.min(o.valPairs ?? heldoutPairs, heldoutPairs) / BATCH)}`,
    `trainer.checkpointEvery=${steps}`,
    'trainer.keepLast=1',
  ];
  o.log(`[post-train] ${at()}: reward model, ${o.rmSteps} steps on ${pairs.train}`);
  const rm = await trainTiny(
    [...common(join(o.out, 'rm'), o.rmSteps, 1e-3), 'model.rewardHead=true', 'trainer.objective="reward"'],
    o.devices,
    'post-train-align',
  );

  // -- 3. PPO against it, from the SFT model, adaptive KL toward klTarget
  const ppoDir = join(o.out, 'ppo');
  o.log(`[post-train] ${at()}: PPO, ${o.ppoIterations} iterations, KL target ${o.klTarget} -> ${ppoDir}`);
  await flowlm(
    [
      'run',
      PPO_SPEC,
      '--devices',
      o.devices,
      '--progress',
      'none',
      ...['--set', `ppo.policy=${o.sft}`, '--set', `ppo.reward=${rm.checkpoint}`, '--set', `ppo.runDir=${ppoDir}`],
      ...['--set', `ppo.iterations=${o.ppoIterations}`, '--set', `ppo.klTarget=${o.klTarget}`],
      ...['--set', `ppo.batchSize=${o.ppoBatch}`, '--set', `ppo.miniBatchSize=${Math.max(1, o.ppoBatch / 2)}`],
      ...['--set', `ppo.maxTokens=${o.maxTokens}`, '--set', 'ppo.lr=2e-4', '--set', 'ppo.checkpointEvery=0'],
      ...['--set', '~prompts.prompts', '--set', `prompts.file=${promptFile}`],
    ],
    'post-train-align',
  );
  const ppoScore = await ppoSeries(ppoDir, 'score');
  const ppoKl = await ppoSeries(ppoDir, 'kl');

  // -- 4. DPO from the SFT model (its reference) on the same pairs
  o.log(`[post-train] ${at()}: DPO, ${o.dpoSteps} steps`);
  const dpo = await trainTiny(
    [...common(join(o.out, 'dpo'), o.dpoSteps, 1e-4), 'trainer.objective="dpo"', 'trainer.dpo.beta=0.1'],
    o.devices,
    'post-train-align',
  );

  // -- 5. the judges on held-out prompts
  o.log(`[post-train] ${at()}: ${o.samples} samples of ${heldoutPrompts.length} held-out prompts per policy`);
  await initBackend();
  const classifier = trainHamClassifier();
  const reward = await loadRewardModel(rm.checkpoint);
  const reference = await loadModel(o.sft);
  const judge = async (dir: string): Promise<PolicyFigures> => {
    const policy = dir === o.sft ? reference : await loadModel(dir);
    try {
      const gens: Generation[] = policyReport(policy.model, reference.model, reward, heldoutPrompts, {
        encoding: o.encoding,
        samples: o.samples,
        maxTokens: o.maxTokens,
        temperature: 1,
        seed: 0,
        scoreEos: true,
      });
      return {
        reward: meanOf(gens, (g) => g.reward),
        kl: meanOf(gens, (g) => g.kl),
        pHam: meanOf(gens, (g) => classifier.pHam(g.response)),
        meanTokens: meanOf(gens, (g) => g.tokens),
        generations: gens.length,
        example: `${gens[0]!.prompt}${gens[0]!.response}`,
      };
    } finally {
      if (policy !== reference) policy.model.dispose();
    }
  };
  const judged = { sft: await judge(o.sft), ppo: await judge(ppoDir), dpo: await judge(dpo.checkpoint) };
  reference.model.dispose();
  reward.model.dispose();
  reward.head.dispose();

  const q = Math.max(1, Math.floor(ppoScore.length / 4));
  return {
    rewardModel: {
      steps: o.rmSteps,
      heldoutPairs: rm.val?.pairs ?? null,
      heldoutAccuracy: rm.val?.accuracy ?? null,
      checkpoint: rm.checkpoint,
    },
    ppo: {
      iterations: ppoScore.length,
      rolloutsPerIteration: o.ppoBatch,
      klTarget: o.klTarget,
      rewardFirstQuarter: mean(ppoScore.slice(0, q)),
      rewardLastQuarter: mean(ppoScore.slice(-q)),
      rewardRise: mean(ppoScore.slice(-q)) - mean(ppoScore.slice(0, q)),
      klMax: Math.max(...ppoKl),
      klLast: ppoKl.at(-1) ?? null,
      score: ppoScore,
      kl: ppoKl,
      runDir: ppoDir,
    },
    dpo: { steps: o.dpoSteps, heldoutAccuracy: dpo.val?.accuracy ?? null, checkpoint: dpo.checkpoint },
    judged,
    seconds: (performance.now() - t0) / 1000,
  };
}

export type AlignFigures = Awaited<ReturnType<typeof align>>;
export type { TrainSummary };

/** The alignment figures as table lines. */
export function alignTable(f: AlignFigures): string[] {
  const n = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  const WIDTHS = [8, 10, 10, 12, 8];
  const cells = (xs: string[]) =>
    `  ${xs.map((x, i) => (i === 0 ? x.padEnd(WIDTHS[0]!) : x.padStart(WIDTHS[i]!))).join(' ')}`;
  const row = (name: string, p: PolicyFigures) => cells([name, n(p.reward), n(p.kl), n(p.pHam), n(p.meanTokens, 1)]);
  return [
    `  reward model: held-out pair accuracy ${n(f.rewardModel.heldoutAccuracy)} on ` +
      `${f.rewardModel.heldoutPairs ?? '-'} pairs (chance 0.5)`,
    `  PPO: mean reward ${n(f.ppo.rewardFirstQuarter)} in the first quarter of ${f.ppo.iterations} iterations, ` +
      `${n(f.ppo.rewardLastQuarter)} in the last (rise ${n(f.ppo.rewardRise)}); KL at most ${n(f.ppo.klMax)} ` +
      `(target ${f.ppo.klTarget})`,
    `  DPO: held-out implicit-reward accuracy ${n(f.dpo.heldoutAccuracy)}`,
    cells(['policy', 'reward', 'KL to SFT', 'P(ham) (NB)', 'tokens']),
    row('SFT', f.judged.sft),
    row('PPO', f.judged.ppo),
    row('DPO', f.judged.dpo),
  ];
}
