// PPO's optimisation phase of one iteration (TRL's PPOTrainer.step after the advantages): ppoEpochs
// passes over the rollouts, each in a fresh order drawn from the run's Rng, cut into minibatches; per
// minibatch one forward of the policy (log-probs, entropy) with the value head on the same hidden
// states, the clipped policy loss + vfCoef * clipped value loss (ppo-loss.ts), gradients of the
// trainable specs, global-norm clipping, one AdamW step. Reports are minibatch means of ppoStats.
// Data parallel: the epoch's order is over the whole iteration's rollouts (the same Rng on every
// rank), and each rank runs the part of a minibatch it rolled out; its gradient of its masked mean is
// weighted by its share of the minibatch's tokens and summed over ranks, so every rank steps with the
// gradient world 1 computes over the whole minibatch (clipped by its global norm).
import type { Collective } from '../../runtime/collectives/collective.ts';
import { clipGlobalNorm, globalNorm } from '../train/train-step.ts';
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../model/params.ts';
import type { ScalarHead } from '../model/scalar-head.ts';
import type { Gpt } from '../model/gpt.ts';
import { ppoLoss, ppoStats, type PpoLossOptions, type PpoStats } from '../objective/ppo-loss.ts';
import type { AdamW } from '../optim/adamw.ts';
import type { Rng } from '../../runtime/rng.ts';
import { soloDist, sumGradients, weightedMeans } from './ppo-dist.ts';
import { padRows, responseTensors, rolloutLayout } from './ppo-rollout.ts';

export interface UpdateRows {
  prompts: readonly number[][];
  responses: readonly number[][];
  oldLogprobs: readonly ArrayLike<number>[];
  oldValues: readonly ArrayLike<number>[];
  advantages: readonly ArrayLike<number>[];
  returns: readonly ArrayLike<number>[];
}

export interface UpdateOptions extends PpoLossOptions {
  ppoEpochs: number;
  miniBatchSize: number;
  lr: number;
  /** 0: no clipping */
  clipNorm: number;
}

export interface UpdateModels {
  policy: Gpt;
  valueHead: ScalarHead;
  optimizer: AdamW;
  /** the specs the optimizer was made for, in its order */
  trainable: readonly ParamSpec[];
  /** resolves a spec's name to its variable (policy or value head): PpoState.paramHost() */
  host: Gpt;
}

export type UpdateReport = Required<PpoStats> & { gradNorm: number; minibatches: number };

/** The reported statistics, in the order they travel between ranks. */
const STATS = [
  'loss',
  'pgLoss',
  'vfLoss',
  'pgClipfrac',
  'vfClipfrac',
  'approxKl',
  'policyKl',
  'ratio',
  'entropy',
] as const satisfies readonly (keyof PpoStats)[];

/** This rank's part of a minibatch (local row indices): its gradient of its masked mean loss, its
 * stats and its response tokens. No rows: zero gradients. */
function localGrads(m: UpdateModels, rows: UpdateRows, pick: readonly number[], o: UpdateOptions) {
  const flat = new Map<string, Float32Array>();
  if (pick.length === 0) {
    for (const s of m.trainable) flat.set(s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
    return { flat, stats: STATS.map(() => 0), tokens: 0 };
  }
  const prompts = pick.map((i) => rows.prompts[i]!);
  const responses = pick.map((i) => rows.responses[i]!);
  const layout = rolloutLayout(prompts, responses, m.policy.config.contextLength);
  const pad = (a: readonly ArrayLike<number>[]) =>
    padRows(
      pick.map((i) => a[i]!),
      layout.t,
    );
  const targets = {
    oldLogprobs: pad(rows.oldLogprobs),
    oldValues: pad(rows.oldValues),
    advantages: pad(rows.advantages),
    returns: pad(rows.returns),
    mask: layout.mask,
  };
  const vars = m.trainable.map((s) => m.host.param(s.name));
  let kept: tf.Tensor1D[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const r = responseTensors(m.policy, layout, { head: m.valueHead, entropy: true });
    kept = [tf.keep(r.logprobs), tf.keep(r.values!), tf.keep(r.entropy!)];
    return ppoLoss(r.logprobs, r.values!, targets, o).loss;
  }, vars);
  const byVar = new Map(vars.map((v, i) => [v.name, m.trainable[i]!.name]));
  for (const [varName, g] of Object.entries(grads)) flat.set(byVar.get(varName)!, Float32Array.from(g.dataSync()));
  const [lp, v, ent] = kept.map((x) => Float32Array.from(x.dataSync())) as [Float32Array, Float32Array, Float32Array];
  tf.dispose([value, ...Object.values(grads), ...kept]);
  const st = ppoStats(lp, v, targets, o, ent);
  const tokens = responses.reduce((a, r) => a + r.length, 0);
  return { flat, stats: STATS.map((k) => st[k] ?? 0), tokens };
}

/** One minibatch's gradient step on every rank; returns its stats over the whole minibatch and the
 * gradient norm before clipping. */
async function minibatchStep(
  m: UpdateModels,
  rows: UpdateRows,
  pick: readonly number[],
  o: UpdateOptions,
  c: Collective,
) {
  const local = localGrads(m, rows, pick, o);
  const all = await weightedMeans(c, local.tokens, local.stats);
  // the gradient of the minibatch's mean is the token-weighted sum of the ranks' means
  if (local.tokens !== all.tokens) {
    const f = local.tokens / all.tokens;
    for (const g of local.flat.values()) for (let i = 0; i < g.length; i++) g[i]! *= f;
  }
  await sumGradients(
    c,
    local.flat,
    m.trainable.map((s) => s.name),
  );
  // 0: no clipping, the norm still reported
  const gradNorm = o.clipNorm > 0 ? clipGlobalNorm(local.flat, o.clipNorm) : globalNorm(local.flat);
  m.optimizer.apply(m.host, local.flat, o.lr);
  return { stats: all.means, gradNorm };
}

/** Where this rank's rows sit among the iteration's: rows are global rollouts [offset, offset + n). */
export interface UpdateShare {
  collective: Collective;
  offset: number;
  /** the iteration's rollouts over all ranks */
  total: number;
}

/** The iteration's update; draws each epoch's order (over all ranks' rollouts) from `rng`. */
export async function ppoUpdate(
  m: UpdateModels,
  rows: UpdateRows,
  o: UpdateOptions,
  rng: Rng,
  share: UpdateShare = { collective: soloDist().collective, offset: 0, total: rows.prompts.length },
): Promise<UpdateReport> {
  const n = share.total;
  const local = rows.prompts.length;
  if (!(o.miniBatchSize >= 1 && o.miniBatchSize <= n))
    throw new Error(`ppoUpdate: miniBatchSize ${o.miniBatchSize} must be in [1, ${n}] (the iteration's rollouts)`);
  const sum = new Float64Array(STATS.length + 1);
  let count = 0;
  for (let e = 0; e < o.ppoEpochs; e++) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let s = 0; s < n; s += o.miniBatchSize) {
      // this rank's rollouts of the minibatch, in the minibatch's order
      const pick = order
        .slice(s, s + o.miniBatchSize)
        .filter((i) => i >= share.offset && i < share.offset + local)
        .map((i) => i - share.offset);
      const { stats, gradNorm } = await minibatchStep(m, rows, pick, o, share.collective);
      [...stats, gradNorm].forEach((v, k) => (sum[k]! += v));
      count++;
    }
  }
  const mean = (k: (typeof STATS)[number] | 'gradNorm') =>
    sum[k === 'gradNorm' ? STATS.length : STATS.indexOf(k)]! / count;
  return {
    loss: mean('loss'),
    pgLoss: mean('pgLoss'),
    vfLoss: mean('vfLoss'),
    pgClipfrac: mean('pgClipfrac'),
    vfClipfrac: mean('vfClipfrac'),
    approxKl: mean('approxKl'),
    policyKl: mean('policyKl'),
    ratio: mean('ratio'),
    entropy: mean('entropy'),
    gradNorm: mean('gradNorm'),
    minibatches: count,
  };
}
