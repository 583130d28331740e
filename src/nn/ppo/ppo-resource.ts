// `posttrain/ppo`: one PPO run — its settings (ppo-config.ts) and, once the graph's source opens it,
// its state (ppo-state.ts: policy, value head, reference, reward model, AdamW, KL controller, Rng,
// cursor, iteration). The source opens it because loading the reward model is an operator's concern
// (operators/posttrain/reward-model-file.ts) that src/ cannot import. Data parallel on the run's ranks
// (its process group, as the trainer's): each rank rolls out and scores its share of the prompts and
// the update sums gradients over ranks (ppo-dist.ts).
import { defineResource, type ResourceScope } from '../../core/resource.ts';
import type { Collective } from '../../runtime/collectives/collective.ts';
import { initBackend } from '../backend/backend.ts';
import type { StepProgress } from '../train/trainer.ts';
import { soloDist, type PpoDist } from './ppo-dist.ts';
import { ppoConfigSchema, type PpoConfig } from './ppo-config.ts';
import { PpoState, type RewardLoader } from './ppo-state.ts';

export class PpoRun {
  private opening?: Promise<PpoState>;
  /** the state once opened (read synchronously when the run reports, before disposal) */
  opened?: PpoState;
  readonly dist: PpoDist;

  constructor(
    readonly cfg: PpoConfig,
    readonly scope: ResourceScope,
  ) {
    if (scope.worldSize > 1 && !scope.group)
      throw new Error(`posttrain/ppo: rank ${scope.rank} of ${scope.worldSize} has no process group`);
    this.dist =
      scope.worldSize > 1
        ? { rank: scope.rank, worldSize: scope.worldSize, collective: scope.group as Collective }
        : soloDist();
  }

  /** Loads the models (and the latest checkpoint with --resume); the source calls it once. */
  open(loadReward: RewardLoader): Promise<PpoState> {
    if (this.opening)
      return Promise.reject(new Error('posttrain/ppo: opened twice; one ppo/prompts source per PPO run'));
    this.opening = (async () => {
      const lead = this.dist.rank === 0;
      await initBackend({ announce: lead ? (l) => this.scope.log(l) : false });
      this.opened = await PpoState.open(this.cfg, loadReward, {
        resume: this.scope.resume,
        log: lead ? (l) => this.scope.log(l) : undefined,
        dist: this.dist,
      });
      return this.opened;
    })();
    return this.opening;
  }

  /** The state the source opened (its batches reach a stage only after it has). */
  state(): Promise<PpoState> {
    if (!this.opening)
      return Promise.reject(
        new Error('posttrain/ppo: no source has opened this run; put ppo/prompts at the head of the PPO chain'),
      );
    return this.opening;
  }

  private readonly t0 = performance.now();

  /** An iteration is done: its tally, and progress for the command's terminal (rank 0). */
  iterationDone(s: PpoState, p: { loss: number; gradNorm: number; tokens: number }): void {
    s.tally.losses.push(p.loss);
    s.tally.tokens += p.tokens;
    if (this.dist.rank !== 0 || !this.scope.hooks.onStep) return;
    const secs = (performance.now() - this.t0) / 1000;
    const done = s.iteration - s.startIteration;
    this.scope.hooks.onStep({
      step: s.iteration,
      steps: this.cfg.iterations,
      loss: p.loss,
      lr: this.cfg.lr,
      gradNorm: p.gradNorm,
      tokensPerS: s.tally.tokens / Math.max(secs, 1e-9),
      etaS: done > 0 ? ((this.cfg.iterations - s.iteration) * secs) / done : 0,
    } satisfies StepProgress);
  }

  /** A graceful stop was asked for (SIGINT/SIGTERM) on this rank: the update agrees on it with the
   * others and the run finishes the current iteration with a checkpoint. */
  get stopRequested(): boolean {
    return this.scope.hooks.stop?.aborted ?? false;
  }

  async dispose(): Promise<void> {
    const s = await this.opening?.catch(() => undefined);
    s?.dispose();
  }
}

export const ppoResource = defineResource({
  kind: 'posttrain/ppo',
  description:
    'a PPO run: policy (trained, whole or LoRA) with a value head, frozen reference and reward models, AdamW, KL ' +
    'controller, seeded sampling, checkpoints and exact resume',
  config: ppoConfigSchema,
  open: (c, scope) => new PpoRun(c, scope),
  dispose: (r) => r.dispose(),
  describe: (c) =>
    `${c.iterations} iterations of ${c.batchSize} rollouts (${c.ppoEpochs} epochs of minibatches of ` +
    `${c.miniBatchSize}); data parallel over the ranks; run directory ${c.runDir}`,
});
