// One replica of the training chain (DESIGN.md §5-6): the model, optimizer and data position of one
// data-parallel rank, with the stages of an optimizer step as separate calls, so the trainer loop
// (trainer.ts) and the training operators (operators/train/) run the same code:
//   forwardBackward  this rank's micro-batches -> their mean gradient, flat in model.specs order
//   allReduce        the mean over ranks of gradient and loss (identity at world size 1)
//   optimizerStep    clip by global norm, update (AdamW, or ZeRO-1 sharded AdamW; collective)
//   evaluate         validation on rank 0 (validate.ts)
//   checkpoint       the full optimizer state gathered on every rank, written by rank 0
// With a frozen base (an adapter configured: src/nn/adapters/trainable.ts) gradients, optimizer state,
// all-reduce and checkpoints cover only the trainable parameters; checkpoints then hold those alone
// and name the base (src/nn/checkpoint/adapter-only.ts).
// DPO's frozen reference model is loaded by every replica from its checkpoint (reference-model.ts);
// it has no gradients, optimizer state or place in checkpoints.
// A checkpoint holds everything the next step depends on: parameters, AdamW moments and step, and
// the data cursor after the last step (dropout masks derive from the seed, step and micro-batch).
import { createHash } from 'node:crypto';
import type { MetricRow } from '../../schema/metrics.ts';
import { Rng } from '../../runtime/rng.ts';
import { writeReplicaCheckpoint } from './replica-checkpoint.ts';
import type { Dist } from './dist.ts';
import { referenceDir, referenceModel } from './reference-model.ts';
import type { EvalOptions, EvalResult } from '../eval/evaluate.ts';
import { validate } from './validate.ts';
import { FlatLayout } from '../optim/flat-layout.ts';
import { Gpt } from '../model/gpt.ts';
import type { HeadTuning } from '../head/head-loss.ts';
import type { PackedBatch } from '../objective/loss.ts';
import type { Optimizer } from '../optim/optimizer.ts';
import { openReplicaState } from './replica-open.ts';
import { allReduceMean, anyRank, meanLossAndTokens } from './replica-reduce.ts';
import type { OverlapEvent } from './overlap-reduce.ts';
import { overlappedForwardBackward } from './overlap-step.ts';
import { cosineLr } from '../optim/schedule.ts';
import { objectiveOf } from './objective.ts';
import type { TrainConfig } from './train-config.ts';
import { clipGlobalNorm, globalNorm, gradsInto } from './train-step.ts';
import { paramCount, trainableSpecs } from '../adapters/trainable.ts';
import type { AdapterOnlyRef } from '../checkpoint/adapter-only.ts';
import type { ParamSpec } from '../model/params.ts';

export interface ReplicaOptions {
  dist?: Dist;
  /** continue from the run directory's latest checkpoint; without it a run directory that has one is refused */
  resume?: boolean;
  log?(line: string): void;
}

/** A gradient on its way through a step: this rank's (after forwardBackward) or the global mean
 * (after allReduce, which averages `flat` in place and makes loss and tokens global). */
export interface StepGrads {
  /** mean loss over the micro-batches it covers */
  loss: number;
  /** input tokens it covers */
  tokens: number;
  /** mean gradient, flat in model.specs order (replica.layout) */
  flat: Float32Array;
}

export interface StepReport {
  /** optimizer steps done, this one included */
  step: number;
  loss: number;
  lr: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** input tokens of the global step (every rank) */
  tokens: number;
}

export class TrainReplica {
  /** the parameters this run trains: all, or only the adapters' when the base is frozen */
  readonly trainable: ParamSpec[];
  /** gradients and all-reduce buckets: the trainable parameters, flat */
  readonly layout: FlatLayout;
  /** output-head threading: the head helper thread only when this process trains alone */
  readonly head: HeadTuning | undefined;
  /** optimizer steps done */
  step: number;
  /** the data position after the last step (null: the beginning) */
  cursor: unknown;
  /** the run is over: the config's last step is done, or the ranks agreed to stop */
  finished = false;
  /** resumed: the metric rows of the checkpoint's step, which it records (a kill between the checkpoint
   * and the metrics log would otherwise lose them) */
  checkpointMetrics: MetricRow[] = [];
  /** DPO's frozen reference model (reference-model.ts); loaded by open() */
  reference?: Gpt;
  private readonly schedule;

  private constructor(
    readonly cfg: TrainConfig,
    readonly dist: Dist,
    readonly model: Gpt,
    readonly optimizer: Optimizer,
    readonly hash: string,
    readonly startStep: number,
    cursor: unknown,
    private readonly log: (line: string) => void,
    /** set when the base is frozen: what adapter-only checkpoints record about it */
    readonly adapterRef?: AdapterOnlyRef,
  ) {
    this.trainable = trainableSpecs(model.specs, model.config);
    this.layout = new FlatLayout(this.trainable);
    this.head = dist.worldSize > 1 ? { threads: 1 } : undefined;
    this.step = startStep;
    this.cursor = cursor;
    this.finished = startStep >= cfg.steps;
    this.schedule = { maxLr: cfg.lr.max, minLr: cfg.lr.min, warmupSteps: cfg.lr.warmupSteps, totalSteps: cfg.steps };
  }

  /** A fresh replica, or exactly where the run directory's latest checkpoint left off (every rank
   * loads it; the state there is unsharded, so any world size with the same global batch resumes). */
  static async open(cfg: TrainConfig, o: ReplicaOptions = {}): Promise<TrainReplica> {
    if (cfg.objective === 'dpo') referenceDir(cfg); // refused before any work when there is none
    const rep = await TrainReplica.openModel(cfg, o);
    try {
      if (cfg.objective === 'dpo')
        rep.reference = await referenceModel(cfg, rep.model.config, o.log ?? (() => undefined));
    } catch (err) {
      rep.dispose();
      throw err;
    }
    return rep;
  }

  private static async openModel(cfg: TrainConfig, o: ReplicaOptions): Promise<TrainReplica> {
    const st = await openReplicaState(cfg, o);
    const rep = new TrainReplica(
      cfg,
      st.dist,
      st.model,
      st.optimizer,
      st.hash,
      st.startStep,
      st.cursor,
      st.log,
      st.adapterRef,
    );
    rep.checkpointMetrics = st.checkpointMetrics;
    return rep;
  }

  /** elements of the trainable parameters */
  get trainableParams(): number {
    return paramCount(this.trainable);
  }

  get lead(): boolean {
    return this.dist.rank === 0;
  }

  lrAt(step: number): number {
    return cosineLr(this.schedule, step);
  }

  /** The generator of micro-batch `index` (counted over all ranks) of step `step`: derived rather than
   * drawn from one stream, so a micro-batch gets the same dropout masks whichever rank computes it,
   * and a resumed run the same as an uninterrupted one. */
  microRng(step: number, index: number): Rng {
    const h = createHash('sha256').update(`${this.cfg.seed}/${step}/${index}`).digest();
    return new Rng(h.readUIntBE(0, 6));
  }

  /** Forward and backward over this rank's micro-batches of the next step: the mean of their
   * gradients (each micro-batch weighs the same, as each rank does in the all-reduce). */
  forwardBackward(micro: readonly PackedBatch[]): StepGrads {
    if (micro.length === 0) throw new Error('forwardBackward: no micro-batches');
    if (this.cfg.overlapComm)
      throw new Error(
        'trainer overlapComm: forwardBackward is one synchronous backward and cannot overlap the all-reduce; ' +
          'call forwardBackwardReduce (forward, backward and all-reduce in one), or set overlapComm false',
      );
    const flat = new Float32Array(this.layout.total);
    const objective = objectiveOf(this.cfg, this.model.config, this.reference);
    const first = this.dist.rank * this.cfg.gradAccum; // global index of this rank's first micro-batch
    let loss = 0;
    let tokens = 0;
    micro.forEach((b, k) => {
      loss += gradsInto(
        this.model,
        b,
        { objective, rng: this.microRng(this.step, first + k), head: this.head },
        this.layout,
        flat,
        k > 0,
      );
      tokens += b.batch * b.seqLen;
    });
    const f = 1 / micro.length;
    if (micro.length > 1) for (let i = 0; i < flat.length; i++) flat[i]! *= f;
    return { loss: loss * f, tokens, flat };
  }

  /** The mean over ranks, in place (collective; identity at world size 1): afterwards every rank
   * holds the same gradient, the float64 mean of the ranks' losses and the global token count. */
  async allReduce(g: StepGrads): Promise<StepGrads> {
    const c = this.dist.collective;
    if (c.worldSize === 1) return g;
    await allReduceMean(c, g.flat, undefined, this.cfg.allReduceDtype);
    return meanLossAndTokens(this.dist.collective, g);
  }

  /** forwardBackward then allReduce in one call; with trainer overlapComm each gradient bucket's
   * all-reduce starts while the backward still runs (overlap-step.ts), with the same result. */
  async forwardBackwardReduce(
    micro: readonly PackedBatch[],
    o: { bucketElems?: number; drainMs?: number; trace?: (e: OverlapEvent) => void } = {},
  ): Promise<StepGrads> {
    if (!this.cfg.overlapComm) return this.allReduce(this.forwardBackward(micro));
    const first = this.dist.rank * this.cfg.gradAccum;
    const g = await overlappedForwardBackward(this.model, this.layout, this.dist.collective, micro, {
      objective: objectiveOf(this.cfg, this.model.config, this.reference),
      rngOf: (k) => this.microRng(this.step, first + k),
      head: this.head,
      wire: this.cfg.allReduceDtype,
      ...o,
    });
    return meanLossAndTokens(this.dist.collective, g);
  }

  /** Clips the (global) gradient by its global norm and updates the parameters; `cursor` is the data
   * position after this step. Collective with ZeRO-1. */
  async optimizerStep(g: StepGrads, cursor: unknown): Promise<StepReport> {
    const grads = this.layout.unflatten(g.flat);
    const clip = this.cfg.clipNorm;
    const gradNorm = clip ? clipGlobalNorm(grads, clip) : globalNorm(grads);
    const lr = this.lrAt(this.step);
    await this.optimizer.apply(this.model, grads, lr);
    this.step++;
    this.cursor = cursor;
    return { step: this.step, loss: g.loss, lr, gradNorm, tokens: g.tokens };
  }

  /** Validation loss on rank 0 (undefined on the others, which wait at their next collective): plain
   * NLL per target token whatever the training label smoothing; bits per byte with `tokenBytes`. */
  async evaluate(val: AsyncIterable<PackedBatch>, o: EvalOptions = {}): Promise<EvalResult | undefined> {
    if (!this.lead) return undefined;
    return validate(this.cfg, this.model, this.reference, val, o, (m) => this.log(`step ${this.step}: ${m}`));
  }

  /** After a step (collective): whether any rank was asked to stop, so all ranks stop after the same
   * step; marks the replica finished then, or when the config's last step is done. */
  async endStep(stopRequested: boolean): Promise<boolean> {
    const stop = await anyRank(this.dist.collective, stopRequested);
    if (stop || this.step >= this.cfg.steps) this.finished = true;
    return stop;
  }

  /** Every rank calls it (the sharded optimizer state is gathered); rank 0 writes the checkpoint,
   * unsharded, with the step's metric rows, and returns its directory. */
  async checkpoint(metrics: readonly MetricRow[] = []): Promise<string | undefined> {
    const st = await this.optimizer.fullState();
    if (!this.lead) return undefined;
    const dir = await writeReplicaCheckpoint({
      cfg: this.cfg,
      model: this.model,
      optimizer: st,
      step: this.step,
      cursor: this.cursor,
      hash: this.hash,
      worldSize: this.dist.worldSize,
      adapterRef: this.adapterRef,
      metrics,
    });
    this.log(`checkpoint ${dir}`);
    return dir;
  }

  /** sha256 of the parameters (float32 bytes in model.specs order): equal on every rank after a step */
  paramsSha256(): string {
    const h = createHash('sha256');
    for (const v of this.model.getParams().values()) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return h.digest('hex');
  }

  dispose(): void {
    this.model.dispose();
    this.reference?.dispose();
    this.optimizer.close?.();
  }
}
