// What the training operators share: the config field naming the spec's `nn/trainer` resource (the
// replica whose stages they run), and how each finds it at run time.
import type { RecordBatch } from 'apache-arrow';
import { resourceRef } from '../../src/core/resource.ts';
import { stepMetaOf } from '../../src/nn/train/step-batches.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import type { Trainer } from '../../src/nn/train/trainer-handle.ts';

export const trainerField = resourceRef(
  'nn/trainer',
  "the nn/trainer resource (in the spec's resources) whose replica this stage runs",
);

/** The trainer resource a node's config names. */
export function trainerOf(ctx: OperatorContext, name: string): Promise<Trainer> {
  if (!ctx.resources)
    return Promise.reject(
      new Error(
        `${ctx.nodeId}: the trainer "${name}" is a resource of a flowlm run; run this operator in a spec that ` +
          `declares it (resources: { ${name}: { kind: 'nn/trainer', ... } })`,
      ),
    );
  return ctx.resources.get<Trainer>(name, 'nn/trainer');
}

/** Whether a step-every-N action is due at `step` (always at the run's last step). */
export const dueAt = (every: number, step: number, last: boolean | undefined): boolean =>
  last === true || (every > 0 && step % every === 0);

/** What a training stage needs of each batch: the trainer, its replica (opened by the data source,
 * which sent the batch) and the step the batch belongs to. */
export function stageOf(ctx: OperatorContext, name: string) {
  const trainer = trainerOf(ctx, name);
  trainer.catch(() => undefined); // reported where it is awaited, with the batch
  return async (batch: RecordBatch) => {
    const t = await trainer;
    return { trainer: t, replica: await t.replica(), meta: stepMetaOf(batch, ctx.nodeId) };
  };
}
