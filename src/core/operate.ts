// The general helper: a batch in, any number of batches out, now or later (split, merge, carry-over).
// Credit rules (DESIGN.md §4): an output carries the tickets of the inputs consumed since the previous
// output (a merge holds all of them; a split shares them). With `state: 'absorb'` the operator declares
// its own memory bound: an input's credit returns as soon as it is consumed, and outputs carry only
// the tickets of the input being processed when they are emitted.
import { RecordBatch, type TypeMap } from 'apache-arrow';
import { Observable, type OperatorFunction } from 'rxjs';
import { makeContext, type OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { Serial } from './serial.ts';
import { attach, release, retain, ticketsOf, type Ticket } from './tickets.ts';

export type Emit<O extends TypeMap> = (batch: RecordBatch<O>) => void;

export interface OperateOptions<O extends TypeMap> {
  ctx?: OperatorContext;
  /** 'hold' (default): unreleased inputs stay in flight until an output carries them on */
  state?: 'hold' | 'absorb';
  /** called once when the input completes: emit what is left in the operator's state */
  flush?: (emit: Emit<O>) => void | Promise<void>;
}

export function operate<I extends TypeMap, O extends TypeMap>(
  project: (batch: RecordBatch<I>, emit: Emit<O>, index: number) => void | Promise<void>,
  opts: OperateOptions<O> = {},
): OperatorFunction<RecordBatch<I>, RecordBatch<O>> {
  const ctx = opts.ctx ?? makeContext('operate');
  const absorb = opts.state === 'absorb';
  return (source) =>
    new Observable<RecordBatch<O>>((subscriber) => {
      let pending: Ticket[] = []; // one reference each, owned by this operator
      let emittedSinceTake = false;
      let index = 0;
      let closed = false;
      let current: number | undefined;
      const emit: Emit<O> = (batch) => {
        if (closed) return;
        // a batch that already carries tickets (an input passed on as is) goes out as a new view of the
        // same data: each emitted object must carry exactly the references given to it here
        const out = ticketsOf(batch).length > 0 ? new RecordBatch(batch.schema, batch.data) : batch;
        retain(pending, 1);
        attach(out, pending);
        emittedSinceTake = true;
        subscriber.next(out);
      };
      const dropPending = () => {
        release(pending);
        pending = [];
      };
      // `own`: thrown by this operator (named and located); an upstream error passes on unchanged
      const fail = (err: unknown, own = true) => {
        if (closed) return;
        closed = true;
        dropPending();
        subscriber.error(own ? FlowError.wrap(ctx.nodeId, err, current === undefined ? {} : { batch: current }) : err);
      };
      const serial = new Serial((err) => fail(err));
      const sub = source.subscribe({
        next: (batch) => {
          const i = index++;
          serial.push(() => {
            if (closed) return;
            current = i;
            pending = pending.concat(ticketsOf(batch));
            emittedSinceTake = false;
            const t0 = performance.now();
            const after = () => {
              ctx.stats.busyMs += performance.now() - t0;
              if (absorb || emittedSinceTake) dropPending();
              current = undefined;
            };
            const r = project(batch, emit, i);
            if (r instanceof Promise) return r.then(after);
            after();
            return undefined;
          });
        },
        error: (err) => serial.push(() => fail(err, false)),
        complete: () =>
          serial.push(() => {
            if (closed) return undefined;
            const end = () => {
              dropPending();
              closed = true;
              subscriber.complete();
            };
            const r = opts.flush?.(emit);
            if (r instanceof Promise) return r.then(end);
            end();
            return undefined;
          }),
      });
      return () => {
        sub.unsubscribe();
        serial.clear();
        if (!closed) {
          closed = true;
          dropPending();
        }
      };
    });
}
