// mergeMap with a concurrency limit that still emits in input order. Synchronous results pass straight
// through when nothing earlier is pending, so a plain mapBatch costs no extra scheduling.
import { Observable, type OperatorFunction } from 'rxjs';

export function orderedMap<A, B>(
  fn: (value: A, index: number) => B | Promise<B>,
  concurrency = 1,
): OperatorFunction<A, B> {
  if (!(concurrency >= 1)) throw new Error(`orderedMap: concurrency must be >= 1, got ${concurrency}`);
  return (source) =>
    new Observable<B>((subscriber) => {
      let index = 0;
      let running = 0;
      let sourceDone = false;
      let failed = false;
      const done: Array<{ value: B } | undefined> = []; // results waiting for their turn
      let head = 0; // index of the next result to emit
      let base = 0; // index held by done[0]
      const waiting: A[] = []; // inputs beyond the concurrency limit
      let waitingIndex: number[] = [];

      const flush = () => {
        while (!failed && done[head - base] !== undefined) {
          const r = done[head - base]!;
          done[head - base] = undefined;
          head++;
          subscriber.next(r.value);
        }
        if (head - base > 1024) {
          done.splice(0, head - base);
          base = head;
        }
        if (sourceDone && running === 0 && waiting.length === 0 && !failed) subscriber.complete();
      };

      const start = (value: A, i: number) => {
        let out: B | Promise<B>;
        try {
          out = fn(value, i);
        } catch (err) {
          failed = true;
          subscriber.error(err);
          return;
        }
        if (out instanceof Promise) {
          running++;
          out.then(
            (v) => {
              running--;
              done[i - base] = { value: v };
              pump();
              flush();
            },
            (err) => {
              running--;
              if (!failed) {
                failed = true;
                subscriber.error(err);
              }
            },
          );
        } else {
          done[i - base] = { value: out };
          flush();
        }
      };
      const pump = () => {
        while (!failed && running < concurrency && waiting.length > 0) start(waiting.shift()!, waitingIndex.shift()!);
      };

      const sub = source.subscribe({
        next: (value) => {
          const i = index++;
          if (running < concurrency && waiting.length === 0) start(value, i);
          else {
            waiting.push(value);
            waitingIndex.push(i);
          }
        },
        error: (err) => {
          if (!failed) {
            failed = true;
            subscriber.error(err);
          }
        },
        complete: () => {
          sourceDone = true;
          flush();
        },
      });
      // unsubscribed: start nothing more, and let late results fall on the floor
      return () => {
        sub.unsubscribe();
        failed = true;
        waiting.length = 0;
        waitingIndex = [];
      };
    });
}
