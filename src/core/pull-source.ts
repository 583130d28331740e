// A pull source (AsyncIterable of batches) as an Observable that asks for the next batch only while
// its ledger has credit. Cancellation (ctx.signal) stops pulling and completes, so in-flight batches
// drain and sinks can close what they completed.
import type { RecordBatch } from 'apache-arrow';
import { Observable } from 'rxjs';
import { batchBytes } from '../schema/build.ts';
import type { OperatorContext } from './context.ts';
import { FlowError } from './errors.ts';
import { attach, type Ledger } from './tickets.ts';

/** Resolves when credit returns, the run is cancelled, or the subscriber leaves (`stop`): after a
 * failure downstream no credit may ever come back, and the iterator must still be closed. */
function waitForCredit(ledger: Ledger, signal: AbortSignal, stop: Promise<void>): Promise<void> | undefined {
  const wait = ledger.acquire();
  if (!wait) return undefined;
  return new Promise((resolve) => {
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    void Promise.race([wait, stop]).then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

export function pullSource<T extends RecordBatch>(open: () => AsyncIterable<T>, ctx: OperatorContext): Observable<T> {
  return new Observable<T>((subscriber) => {
    let stopped = false;
    let wake!: () => void;
    const stop = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const it = open()[Symbol.asyncIterator]();
    void (async () => {
      try {
        while (!stopped && !ctx.signal.aborted) {
          if (ctx.ledger) {
            const wait = waitForCredit(ctx.ledger, ctx.signal, stop);
            if (wait) await wait;
            if (stopped || ctx.signal.aborted) break;
          }
          const r = await it.next();
          if (r.done || stopped) break;
          if (ctx.ledger) attach(r.value, [ctx.ledger.issue(batchBytes(r.value))]);
          subscriber.next(r.value);
        }
        await it.return?.();
        subscriber.complete();
      } catch (err) {
        subscriber.error(FlowError.wrap(ctx.nodeId, err));
        await Promise.resolve(it.return?.()).catch(() => undefined);
      }
    })();
    return () => {
      stopped = true;
      wake();
    };
  });
}
