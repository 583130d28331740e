// PPO (Schulman et al. 2017; as InstructGPT and TRL's PPOTrainer) as a graph: each iteration a batch of
// prompts -> responses sampled from the policy with old/reference log-probs and values -> reward model
// scores -> KL-penalised rewards and GAE advantages -> ppoEpochs x minibatches of the clipped losses and
// AdamW -> checkpoint -> metrics. One iteration is in flight at a time (the source's credits), so every
// rollout comes from the policy the previous update left. The policy and reward model are checkpoints:
// e.g. an SFT run's and a reward-model run's (with score.arrow, reward-model-file.ts).
//   flowlm run pipelines/ppo.ts --set ppo.policy=out/sft --set ppo.reward=out/rm [--resume] [--devices cpu:2]
// Data parallel on --devices (default auto, as flowlm train): each rank rolls out, scores and updates
// on its share of an iteration's prompts (batchSize a multiple of the devices), gradients and the
// whitening statistics summed over ranks: any world size gives world 1's numbers. Rank 0 checkpoints
// and logs. The `train` export is how a launcher's rank runs this spec (operators/posttrain/ppo-ranks.ts).
import { fileURLToPath } from 'node:url';
import { ppoRanks } from '../operators/posttrain/ppo-ranks.ts';
import { pipeline } from '../src/graph/spec.ts';
import { ppoAdvantagesOp } from '../operators/posttrain/ppo-advantages.ts';
import { ppoCheckpoint } from '../operators/posttrain/ppo-checkpoint.ts';
import { ppoMetrics } from '../operators/posttrain/ppo-metrics.ts';
import { ppoPrompts } from '../operators/posttrain/ppo-prompts.ts';
import { ppoRollout } from '../operators/posttrain/ppo-rollout.ts';
import { ppoScore } from '../operators/posttrain/ppo-score.ts';
import { ppoUpdateOp } from '../operators/posttrain/ppo-update.ts';

export default pipeline({
  name: 'ppo',
  resources: {
    ppo: {
      kind: 'posttrain/ppo',
      config: {
        policy: 'out/sft', // the starting policy (and, without `reference`, the frozen reference)
        reward: 'out/rm', // a Gpt checkpoint with score.arrow
        runDir: 'out/ppo',
        iterations: 100,
        batchSize: 8, // prompts per iteration
        miniBatchSize: 4,
        ppoEpochs: 4,
        maxTokens: 24,
        temperature: 1,
        klCoef: 0.2, // with klTarget: adaptive (TRL's target 6, horizon 10000)
        gamma: 1,
        lambda: 0.95,
        cliprange: 0.2,
        cliprangeValue: 0.2,
        vfCoef: 0.1,
        lr: 1.41e-5,
        checkpointEvery: 10,
        seed: 0,
      },
    },
  },
  steps: [
    {
      id: 'prompts',
      op: ppoPrompts,
      config: { ppo: 'ppo', prompts: ['Subject: meeting on Tuesday\n', 'Subject: your invoice\n', 'Hi team,\n'] },
    },
    { id: 'rollout', op: ppoRollout, config: { ppo: 'ppo' } }, // responses, old and reference log-probs, values
    { id: 'score', op: ppoScore, config: { ppo: 'ppo' } }, // reward model score of prompt + response
    { id: 'advantages', op: ppoAdvantagesOp, config: { ppo: 'ppo' } }, // KL-penalised rewards, GAE, whitening
    { id: 'update', op: ppoUpdateOp, config: { ppo: 'ppo' } }, // epochs x minibatches, AdamW; the iteration's metrics
    { id: 'checkpoint', op: ppoCheckpoint, config: { ppo: 'ppo' } }, // every checkpointEvery iterations and the last
    { id: 'metrics', op: ppoMetrics, config: { ppo: 'ppo' } }, // metrics.jsonl and metrics.parquet in runDir
  ],
});

/** One rank of the run (flowlm run/train start one per device). */
export const train = ppoRanks(fileURLToPath(import.meta.url));
