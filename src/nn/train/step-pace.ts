// Keeps a chain of training stages (operators/train/) to one step at a time: the micro-batches of
// step k may enter only when every stage has handled step k - 1. Stages are separate operators, so
// without this the source would feed step k + 1 while step k is still being applied, evaluated or
// checkpointed (a stale model, optimizer state changing under a checkpoint being written, and
// collectives called in a different order on different ranks).
export class StepPace {
  private stages = 0;
  private readonly counts = new Map<number, number>();
  private waiters: Array<{ step: number; resolve(): void }> = [];
  private settledUpTo: number;

  /** `start`: the step already complete (0, or the checkpoint resumed from). */
  constructor(start: number) { this.settledUpTo = start; }

  /** A stage joins the chain; it calls the function it gets once for each step it has handled. */
  join(): (step: number) => void {
    this.stages++;
    return (step) => {
      const n = (this.counts.get(step) ?? 0) + 1;
      if (n < this.stages) { this.counts.set(step, n); return; }
      this.counts.delete(step);
      this.settledUpTo = Math.max(this.settledUpTo, step);
      const ready = this.waiters.filter((w) => w.step <= this.settledUpTo);
      this.waiters = this.waiters.filter((w) => w.step > this.settledUpTo);
      for (const w of ready) w.resolve();
    };
  }

  /** Resolves when every stage has handled `step` (at once when no stage joined, or it is already). */
  settled(step: number): Promise<void> {
    if (this.stages === 0 || step <= this.settledUpTo) return Promise.resolve();
    return new Promise((resolve) => { this.waiters.push({ step, resolve }); });
  }
}
