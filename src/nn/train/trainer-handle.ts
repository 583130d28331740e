// The `nn/trainer` resource's instance: the training replica of this rank, opened once by the graph's
// data source (which supplies where the rows come from, part of what a checkpoint must match) and
// shared by the chain's operators; it keeps the run's tally (losses, evaluation, last checkpoint) that
// the command reports when the graph has finished.
import type { ResourceScope } from '../../core/resource.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import { initBackend } from '../backend/backend.ts';
import type { PackedBatch } from '../objective/loss.ts';
import { singleRank, type Dist } from './dist.ts';
import { TrainReplica } from './replica.ts';
import type { TrainConfig } from './train-config.ts';
import { StepTally } from './train-tally.ts';
import type { StepProgress, TrainPipelineResult } from './trainer.ts';

export type TrainDataConfig = TrainConfig['data'];

export class Trainer {
  private opening?: Promise<TrainReplica>;
  private opened?: TrainReplica;
  tally?: StepTally;
  private backendName = 'unknown';
  /** validation micro-batches, given by the data source (held-out rows, or a validation split) */
  val?: () => AsyncIterable<PackedBatch>;
  readonly dist: Dist;

  constructor(
    private readonly configFor: (data: TrainDataConfig) => TrainConfig,
    readonly scope: ResourceScope,
  ) {
    this.dist =
      scope.worldSize > 1
        ? { rank: scope.rank, worldSize: scope.worldSize, collective: scope.group as Collective }
        : singleRank();
    if (scope.worldSize > 1 && !scope.group)
      throw new Error(`nn/trainer: rank ${scope.rank} of ${scope.worldSize} has no process group`);
  }

  get lead(): boolean {
    return this.dist.rank === 0;
  }

  /** The config the replica runs with, once the data source has said where its rows come from. */
  configWith(data: TrainDataConfig): TrainConfig {
    return this.configFor(data);
  }

  /** Opens the replica (fresh, or resumed from the run directory's latest checkpoint with --resume):
   * the data source calls it once, before its first batch. */
  open(data: TrainDataConfig): Promise<TrainReplica> {
    if (this.opening)
      return Promise.reject(
        new Error(
          'nn/trainer: opened twice; one data source (train/shard-batches or train/stream-batches) per trainer',
        ),
      );
    this.opening = (async () => {
      const cfg = this.configFor(data);
      const backend = await initBackend({ announce: this.lead ? undefined : false }); // one announcement per run
      this.backendName = backend.name;
      const rep = await TrainReplica.open(cfg, {
        dist: this.dist,
        resume: this.scope.resume,
        log: this.lead ? (l) => this.scope.log(l) : undefined,
      });
      this.opened = rep;
      this.tally = new StepTally(rep);
      return rep;
    })();
    return this.opening;
  }

  /** The replica the data source opened (its batches reach an operator only after it has). */
  replica(): Promise<TrainReplica> {
    if (!this.opening)
      return Promise.reject(
        new Error(
          'nn/trainer: no data source has opened this trainer; put train/shard-batches or train/stream-batches at ' +
            'the head of the training chain',
        ),
      );
    return this.opening;
  }

  /** A stop requested (SIGINT/SIGTERM): the ranks agree to stop after the current step. */
  get stopRequested(): boolean {
    return this.scope.hooks.stop?.aborted === true;
  }

  onStep(p: StepProgress): void {
    if (this.lead) this.scope.hooks.onStep?.(p);
  }

  /** What the run did, for the command's summary (undefined when the replica never opened). */
  result(): TrainPipelineResult | undefined {
    if (!this.opened || !this.tally) return undefined;
    return { ...this.tally.result(this.backendName), runDir: this.opened.cfg.runDir };
  }

  dispose(): void {
    this.opened?.dispose();
  }
}
