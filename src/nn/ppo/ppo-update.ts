// PPO's optimisation phase of one iteration (TRL's PPOTrainer.step after the advantages): ppoEpochs
// passes over the rollouts, each in a fresh order drawn from the run's Rng, cut into minibatches; per
// minibatch one forward of the policy (log-probs, entropy) with the value head on the same hidden
// states, the clipped policy loss + vfCoef * clipped value loss (ppo-loss.ts), gradients of the
// trainable specs, global-norm clipping, one AdamW step. Reports are minibatch means of ppoStats.
import { clipGlobalNorm, globalNorm } from '../train/train-step.ts';
import * as tf from '@tensorflow/tfjs';
import type { ParamSpec } from '../model/params.ts';
import type { ScalarHead } from '../model/scalar-head.ts';
import type { Gpt } from '../model/gpt.ts';
import { ppoLoss, ppoStats, type PpoLossOptions, type PpoStats } from '../objective/ppo-loss.ts';
import type { AdamW } from '../optim/adamw.ts';
import type { Rng } from '../../runtime/rng.ts';
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

/** One minibatch's gradient step; returns its stats and the gradient norm before clipping. */
function minibatchStep(m: UpdateModels, rows: UpdateRows, pick: readonly number[], o: UpdateOptions) {
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
  const flat = new Map<string, Float32Array>();
  for (const [varName, g] of Object.entries(grads)) flat.set(byVar.get(varName)!, Float32Array.from(g.dataSync()));
  const [lp, v, ent] = kept.map((x) => Float32Array.from(x.dataSync())) as [Float32Array, Float32Array, Float32Array];
  tf.dispose([value, ...Object.values(grads), ...kept]);
  // 0: no clipping, the norm still reported
  const gradNorm = o.clipNorm > 0 ? clipGlobalNorm(flat, o.clipNorm) : globalNorm(flat);
  m.optimizer.apply(m.host, flat, o.lr);
  return { stats: ppoStats(lp, v, targets, o, ent), gradNorm };
}

/** The iteration's update; draws each epoch's order from `rng`. */
export function ppoUpdate(m: UpdateModels, rows: UpdateRows, o: UpdateOptions, rng: Rng): UpdateReport {
  const n = rows.prompts.length;
  if (!(o.miniBatchSize >= 1 && o.miniBatchSize <= n))
    throw new Error(`ppoUpdate: miniBatchSize ${o.miniBatchSize} must be in [1, ${n}] (the iteration's rollouts)`);
  const sum: Record<string, number> = {};
  let count = 0;
  for (let e = 0; e < o.ppoEpochs; e++) {
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    for (let s = 0; s < n; s += o.miniBatchSize) {
      const { stats, gradNorm } = minibatchStep(m, rows, order.slice(s, s + o.miniBatchSize), o);
      for (const [k, v] of Object.entries({ ...stats, gradNorm })) if (v !== undefined) sum[k] = (sum[k] ?? 0) + v;
      count++;
    }
  }
  const mean = (k: keyof UpdateReport) => sum[k]! / count;
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
