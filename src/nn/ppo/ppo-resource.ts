// `posttrain/ppo`: one PPO run — its settings (ppo-config.ts) and, once the graph's source opens it,
// its state (ppo-state.ts: policy, value head, reference, reward model, AdamW, KL controller, Rng,
// cursor, iteration). The source opens it because loading the reward model is an operator's concern
// (operators/posttrain/reward-model-file.ts) that src/ cannot import. Single replica: PPO runs on
// rank 0 (its operators are placed rank0).
import { defineResource, type ResourceScope } from '../../core/resource.ts';
import { initBackend } from '../backend/backend.ts';
import { ppoConfigSchema, type PpoConfig } from './ppo-config.ts';
import { PpoState, type RewardLoader } from './ppo-state.ts';

export class PpoRun {
  private opening?: Promise<PpoState>;

  constructor(
    readonly cfg: PpoConfig,
    readonly scope: ResourceScope,
  ) {}

  /** Loads the models (and the latest checkpoint with --resume); the source calls it once. */
  open(loadReward: RewardLoader): Promise<PpoState> {
    if (this.opening)
      return Promise.reject(new Error('posttrain/ppo: opened twice; one ppo/prompts source per PPO run'));
    this.opening = (async () => {
      await initBackend({ announce: (l) => this.scope.log(l) });
      return PpoState.open(this.cfg, loadReward, { resume: this.scope.resume, log: (l) => this.scope.log(l) });
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

  /** A graceful stop was asked for (SIGINT/SIGTERM): finish the current iteration with a checkpoint. */
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
    `${c.miniBatchSize}); run directory ${c.runDir}`,
});
