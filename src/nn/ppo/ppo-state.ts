// Everything a PPO run holds between iterations: the policy (trained), its value head, the frozen
// reference and reward models, AdamW over the trainable specs (the whole policy, or its LoRA adapters,
// plus the value head), the KL controller, the Rng (minibatch order; each rollout samples from its own,
// ppo-dist.ts rolloutSeed), the prompt cursor and the iteration count. A checkpoint is one atomic step
// directory (src/nn/checkpoint): params.arrow is the policy alone (so loadModel, generate and best-of-n
// read it like every other checkpoint), the value head travels as an extra optimizer slot, and state.json holds the KL coefficient, Rng and cursor: resuming
// continues the identical sequence of iterations. Data parallel, every rank holds the same state (the
// same seeds, the same summed gradients) and rank 0 alone writes checkpoints; any world size resumes
// any checkpoint.
import { createHash } from 'node:crypto';
import type { MetricRow } from '../../schema/metrics.ts';
import * as tf from '@tensorflow/tfjs';
import { trainableSpecs } from '../adapters/trainable.ts';
import { findLatest, loadCheckpoint, saveCheckpoint, valuesOf, withShapes } from '../checkpoint/index.ts';
import { loadModel } from '../checkpoint/load-model.ts';
import type { NamedTensors } from '../checkpoint/types.ts';
import { Gpt } from '../model/gpt.ts';
import type { ParamSpec } from '../model/params.ts';
import { ScalarHead } from '../model/scalar-head.ts';
import { KlController, type KlControllerState } from '../objective/ppo.ts';
import { AdamW } from '../optim/adamw.ts';
import { Rng, type RngState } from '../../runtime/rng.ts';
import { ppoConfigHash, type PpoConfig } from './ppo-config.ts';
import { rolloutShare, soloDist, type PpoDist } from './ppo-dist.ts';

/** What loads the reward model (operators/posttrain/reward-model-file.ts loadRewardModel): src/ cannot
 * import operators/, so the graph's source passes it in. */
export type RewardLoader = (dir: string) => Promise<{ model: Gpt; head: ScalarHead; encoding: string }>;

/** The value head's tensors: an optimizer slot of the checkpoint (params.arrow stays the policy's). */
const HEAD_SLOT = 'value_head';

interface Extra {
  ppo: { kl: KlControllerState; cursor: number; metrics?: MetricRow[] };
}

export class PpoState {
  /** iterations completed (the checkpoint's step) */
  iteration = 0;
  /** resumed: the metric rows of the checkpoint's iteration, as the checkpoint recorded them */
  checkpointMetrics: MetricRow[] = [];
  /** the iteration this process started after (0 fresh, k resumed from checkpoint k) */
  startIteration = 0;
  /** prompts consumed so far (the data cursor) */
  cursor = 0;
  /** the run ends after the current iteration (the last one, or a stop request) */
  finished = false;
  /** what this process ran, for the command's summary: each iteration's loss, response tokens, the
   * last checkpoint written */
  readonly tally: { losses: number[]; tokens: number; checkpoint?: string } = { losses: [], tokens: 0 };
  readonly trainable: ParamSpec[];
  readonly optimizer: AdamW;
  readonly kl: KlController;
  rng: Rng;

  private constructor(
    readonly dist: PpoDist,
    readonly cfg: PpoConfig,
    readonly encoding: string,
    readonly policy: Gpt,
    readonly valueHead: ScalarHead,
    readonly reference: Gpt,
    readonly reward: Gpt,
    readonly rewardHead: ScalarHead,
  ) {
    this.trainable = [...trainableSpecs(policy.specs, policy.config), ...valueHead.specs];
    this.optimizer = new AdamW(this.trainable, {
      beta1: cfg.beta1,
      beta2: cfg.beta2,
      weightDecay: cfg.weightDecay,
    });
    this.kl = new KlController(
      cfg.klCoef,
      cfg.klTarget === undefined ? undefined : { target: cfg.klTarget, horizon: cfg.klHorizon },
    );
    this.rng = new Rng(cfg.seed);
  }

  /** The models from their checkpoints, then the run's latest checkpoint when resuming. */
  static async open(
    cfg: PpoConfig,
    loadReward: RewardLoader,
    o: { resume: boolean; log?: (m: string) => void; dist?: PpoDist },
  ) {
    const dist = o.dist ?? soloDist();
    rolloutShare(cfg.batchSize, dist); // a batch that does not split fails before any model loads
    const start = await loadModel(cfg.policy);
    const opened: Array<{ dispose(): void }> = [start.model];
    try {
      // LoRA adapters start from the seed; the base weights are the checkpoint's
      const policy = cfg.lora
        ? Gpt.create({ ...start.model.config, lora: cfg.lora }, { seed: cfg.seed, values: start.model.getParams() })
        : start.model;
      if (policy !== start.model) opened.push(policy);
      const reference = cfg.reference
        ? (await loadModel(cfg.reference)).model
        : Gpt.create(start.model.config, { values: start.model.getParams() });
      opened.push(reference);
      const rm = await loadReward(cfg.reward);
      opened.push(rm.model, rm.head);
      if (rm.encoding !== start.encoding)
        throw new Error(
          `posttrain/ppo: the policy (${cfg.policy}) uses encoding ${start.encoding} but the reward model ` +
            `(${cfg.reward}) ${rm.encoding}; give models of one tokenizer`,
        );
      if (reference.config.vocabSize !== policy.config.vocabSize)
        throw new Error(`posttrain/ppo: the reference model's vocabulary differs from the policy's (${cfg.reference})`);
      const head = new ScalarHead(policy.config.dModel, { kind: 'value_head', seed: cfg.seed });
      opened.push(head);
      if (policy !== start.model) start.model.dispose();
      const s = new PpoState(dist, cfg, start.encoding, policy, head, reference, rm.model, rm.head);
      await s.resumeIfAsked(o.resume, o.log ?? (() => undefined));
      return s;
    } catch (err) {
      for (const x of opened) x.dispose();
      throw err;
    }
  }

  private async resumeIfAsked(resume: boolean, log: (m: string) => void): Promise<void> {
    const latest = await findLatest(this.cfg.runDir);
    if (!latest) {
      if (resume) log(`posttrain/ppo: ${this.cfg.runDir} has no checkpoint yet; starting fresh`);
      return;
    }
    if (!resume)
      throw new Error(
        `posttrain/ppo: ${this.cfg.runDir} already holds checkpoints (latest iteration ${latest.step}); resume with ` +
          `--resume or choose another runDir`,
      );
    const ck = await loadCheckpoint(latest.dir);
    if (ck.state.configHash !== ppoConfigHash(this.cfg))
      throw new Error(
        `posttrain/ppo: ${ck.dir} was written under another configuration; resume with the run's settings (only ` +
          `iterations, checkpointEvery and keepLast may change)`,
      );
    this.policy.setParams(valuesOf(ck.params));
    const head = ck.optimizer[HEAD_SLOT];
    if (!(head instanceof Map))
      throw new Error(`posttrain/ppo: ${ck.dir} has no ${HEAD_SLOT} slot; not a PPO checkpoint`);
    this.valueHead.setParams(valuesOf(head));
    const step = ck.optimizer.step;
    this.optimizer.setState({ step: Number(step), m: valuesOf(ck.optimizer.m), v: valuesOf(ck.optimizer.v) });
    const extra = ck.state.extra as Extra;
    this.kl.restore(extra.ppo.kl);
    this.cursor = extra.ppo.cursor;
    this.checkpointMetrics = extra.ppo.metrics ?? [];
    this.rng = Rng.restore(ck.state.rng as RngState);
    this.iteration = this.startIteration = ck.step;
    log(`posttrain/ppo: resumed at iteration ${ck.step} from ${ck.dir}`);
  }

  /** Writes the checkpoint of the iterations done so far, with the last iteration's metric rows (a
   * process killed after the checkpoint and before its metrics reached the log loses none: the
   * resumed run's metrics sink writes them back); returns its directory. */
  async checkpoint(metrics: MetricRow[] = []): Promise<string> {
    if (this.dist.rank !== 0)
      throw new Error(`posttrain/ppo: rank ${this.dist.rank} asked to checkpoint; rank 0 alone writes checkpoints`);
    const shapes = new Map<string, readonly number[]>(
      [...this.policy.specs, ...this.valueHead.specs].map((s) => [s.name, s.shape]),
    );
    const st = this.optimizer.getState();
    const headValues: NamedTensors = withShapes(this.valueHead.getParams(), shapes);
    const saved = await saveCheckpoint(
      this.cfg.runDir,
      {
        step: this.iteration,
        params: withShapes(this.policy.getParams(), shapes),
        optimizer: { m: withShapes(st.m, shapes), v: withShapes(st.v, shapes), [HEAD_SLOT]: headValues, step: st.step },
        state: {
          rng: this.rng.save(),
          dataCursor: { next: this.cursor },
          configHash: ppoConfigHash(this.cfg),
          // what loadModel reads: the policy reads like every other checkpoint
          config: { encoding: this.encoding, modelConfig: this.policy.config, ppo: this.cfg },
          extra: { ppo: { kl: this.kl.state(), cursor: this.cursor, metrics } } satisfies Extra,
        },
      },
      { keepLast: this.cfg.keepLast },
    );
    this.tally.checkpoint = saved.dir;
    return saved.dir;
  }

  /** sha256 of the policy's and value head's parameters (float32 bytes in spec order): the same on
   * every rank. */
  paramsSha256(): string {
    const h = createHash('sha256');
    for (const [, v] of [...this.policy.getParams(), ...this.valueHead.getParams()])
      h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return h.digest('hex');
  }

  /** This rank's rollouts of each iteration: global indices [start, start + count). */
  get share(): { start: number; count: number } {
    return rolloutShare(this.cfg.batchSize, this.dist);
  }

  /** AdamW.apply looks parameters up by name on a Gpt; this one finds the value head's too. */
  paramHost(): Gpt {
    const host = { param: (name: string): tf.Variable => this.valueHead.params.get(name) ?? this.policy.param(name) };
    return host as unknown as Gpt;
  }

  dispose(): void {
    for (const m of [this.policy, this.reference, this.reward]) m.dispose();
    this.valueHead.dispose();
    this.rewardHead.dispose();
  }
}
