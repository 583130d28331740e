// What both dedup operators share about their index's life: created (and restored from `statePath`
// when the file exists) before the first batch, saved every `saveEvery` batches and when the input
// ends, which is also how a cancelled run ends (sources complete on cancel), so a stopped job resumes
// with everything it saw. A failed run does not save: its last periodic save stays. Each batch's
// verdicts come from a row kernel (src/core/row-kernel.ts): its stats and rejects are recorded here,
// as kernelMap records them for a stateless operator.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { defer, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { closing } from '../../src/core/closing.ts';
import type { OperatorContext } from '../../src/core/context.ts';
import { kernelFailure, recordKernelStats } from '../../src/core/kernel-stats.ts';
import { operate } from '../../src/core/operate.ts';
import { RowRejects } from '../../src/core/row-rejects.ts';

export const persistConfig = {
  statePath: z
    .string()
    .min(1)
    .optional()
    .describe(
      'index file: loaded at start when present, saved every saveEvery batches and at the end (complete or cancelled)',
    ),
  saveEvery: z.number().int().min(0).default(0).describe('also save after this many batches (0: only at the end)'),
};

export interface PersistentIndex {
  save(path: string): Promise<void>;
  /** false when there is no file yet */
  load(path: string): Promise<boolean>;
  /** one line for the log: entries held and the memory bound */
  describe(): string;
}

export interface IndexOptions {
  ctx: OperatorContext;
  statePath?: string;
  saveEvery: number;
}

/** operate() over a lazily created, persisted index; the index is per subscription (per run). The
 * operator holds declared bounded state, so inputs' credits return as soon as they are consumed.
 * `project` gives the batch's kept rows with their kernel stats (runRows); an emptied batch is not
 * emitted. */
export function withIndex<X extends PersistentIndex, I extends TypeMap, O extends TypeMap>(
  create: () => X | Promise<X>,
  project: (index: X, batch: RecordBatch<I>) => RecordBatch<O>,
  opts: IndexOptions,
): OperatorFunction<RecordBatch<I>, RecordBatch<O>> {
  const { ctx, statePath, saveEvery } = opts;
  return (source) =>
    defer(() => {
      let index: X | undefined;
      let sinceSave = 0;
      const rejects = new RowRejects();
      const open = async (): Promise<X> => {
        const x = await create();
        if (statePath && (await x.load(statePath))) ctx.log(`restored dedup index from ${statePath}: ${x.describe()}`);
        return x;
      };
      const save = async (x: X) => {
        if (!statePath) return;
        await x.save(statePath);
        sinceSave = 0;
      };
      const step = (
        x: X,
        batch: RecordBatch<I>,
        emit: (b: RecordBatch<O>) => void,
        i: number,
      ): void | Promise<void> => {
        let out: RecordBatch<O>;
        try {
          out = project(x, batch);
        } catch (err) {
          throw kernelFailure(ctx.nodeId, err, i);
        }
        rejects.write(batch, recordKernelStats(out, ctx.stats), i);
        if (out.numRows > 0) emit(out);
        if (statePath && saveEvery > 0 && ++sinceSave >= saveEvery) return save(x);
        return undefined;
      };
      return source.pipe(
        operate<I, O>(
          (batch, emit, i) => {
            if (index) return step(index, batch, emit, i);
            return open().then((x) => {
              index = x;
              return step(x, batch, emit, i);
            });
          },
          {
            ctx,
            state: 'absorb',
            flush: async () => {
              index ??= await open(); // an empty input still writes its (possibly restored) index
              await save(index);
            },
          },
        ),
        closing(() => rejects.close()),
      );
    });
}
