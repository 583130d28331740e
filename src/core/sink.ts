// Sinks write batches one at a time, release each batch's credit once it is written, and finish with
// one SinkResult. A sink that errors or is unsubscribed before completion aborts: it removes what it
// had not completed, so nothing half-written stays visible.
import type { RecordBatch, TypeMap } from 'apache-arrow';
import { Observable } from 'rxjs';
import type { OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { releaseBatch } from './tickets.ts';

export interface SinkResult {
  node: string;
  rows: number;
  batches: number;
  /** files the sink completed (renamed into place) */
  files: string[];
  cancelled: boolean;
}

export interface Sink<I extends TypeMap> {
  write(batch: RecordBatch<I>): void | Promise<void>;
  /** 'cancelled': keep only units already completed, remove the partial one */
  close(outcome: 'complete' | 'cancelled'): Promise<string[] | void> | string[] | void;
  abort(error: unknown): Promise<void> | void;
}

export function sinkOperator<T extends TypeMap>(make: () => Sink<T>, ctx: OperatorContext) {
  return (source: Observable<RecordBatch<T>>) =>
    new Observable<SinkResult>((subscriber) => {
      const sink = make();
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      let done = false;
      let rows = 0;
      let batches = 0;
      // `own`: the sink's write or close failed (named after it); an upstream error passes on unchanged
      const fail = (err: unknown, own = true) => {
        if (failed) return;
        failed = true;
        inner.unsubscribe();
        void Promise.resolve(sink.abort(err))
          .catch(() => undefined)
          .then(() => subscriber.error(own ? FlowError.wrap(ctx.nodeId, err) : err));
      };
      const inner = source.subscribe({
        next: (batch) => {
          ctx.stats.queue++;
          chain = chain
            .then(async () => {
              if (failed) return;
              const t0 = performance.now();
              await sink.write(batch);
              ctx.stats.busyMs += performance.now() - t0;
              ctx.stats.queue--;
              rows += batch.numRows;
              batches++;
              releaseBatch(batch);
            })
            .catch((err: unknown) => fail(err));
        },
        error: (err) => {
          chain = chain.then(() => fail(err, false));
        },
        complete: () => {
          chain = chain
            .then(async () => {
              if (failed) return;
              const cancelled = ctx.signal.aborted;
              const files = (await sink.close(cancelled ? 'cancelled' : 'complete')) ?? [];
              done = true;
              subscriber.next({ node: ctx.nodeId, rows, batches, files, cancelled });
              subscriber.complete();
            })
            .catch((err: unknown) => fail(err));
        },
      });
      return () => {
        inner.unsubscribe();
        if (!done && !failed) {
          failed = true;
          void chain.then(() => sink.abort(new Error('unsubscribed'))).catch(() => undefined);
        }
      };
    });
}
