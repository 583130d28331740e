// What a run reports as it goes and when it ends, however its steps are driven (the trainer loop in
// trainer.ts, or the chain of training operators in a pipeline): per-step progress (tokens/s over
// the whole global step, ETA at this invocation's pace) and the TrainResult.
import type { EvalResult } from '../eval/evaluate.ts';
import type { StepReport, TrainReplica } from './replica.ts';
import type { StepProgress, TrainResult } from './trainer.ts';

export class StepTally {
  readonly startStep: number;
  readonly losses: number[] = [];
  tokens = 0;
  val?: EvalResult;
  /** the last checkpoint written (rank 0) */
  checkpoint?: string;
  stopped = false;
  private readonly t0 = performance.now();

  constructor(private readonly replica: TrainReplica) {
    this.startStep = replica.step;
  }

  /** Counts a step; returns its progress line's figures. */
  add(r: StepReport): StepProgress {
    this.losses.push(r.loss);
    this.tokens += r.tokens;
    const elapsed = (performance.now() - this.t0) / 1000;
    const tokensPerS = this.tokens / elapsed;
    const steps = this.replica.cfg.steps;
    return {
      step: r.step,
      steps,
      loss: r.loss,
      lr: r.lr,
      gradNorm: r.gradNorm,
      tokensPerS,
      etaS: (elapsed / (r.step - this.startStep)) * (steps - r.step),
    };
  }

  result(backend: string): TrainResult {
    const durationMs = performance.now() - this.t0;
    const rep = this.replica;
    return {
      ok: !this.stopped,
      step: rep.step,
      startStep: this.startStep,
      losses: this.losses,
      val: this.val,
      tokens: this.tokens,
      durationMs,
      tokensPerS: this.tokens / (durationMs / 1000),
      params: rep.model.numParams(),
      trainableParams: rep.trainableParams,
      backend,
      checkpoint: this.checkpoint,
      configHash: rep.hash,
      stopped: this.stopped,
      paramsSha256: rep.paramsSha256(),
    };
  }
}
