// An operator that holds a resource to the end of its stream (a rejects file): the stream completes, or
// fails, only once the resource is closed, so whoever waits for the run sees the file in place. On an
// error the resource is still closed (it keeps what was written until then) and the error is the
// stream's own, even if closing fails too. Unsubscribed early (a cancelled run), it closes in the
// background.
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';

/** `close` returns undefined when there is nothing to close: the stream then ends at once. */
export function closing<T>(close: () => Promise<void> | undefined): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let closed = false;
      const end = (then: () => void, onCloseError: (err: unknown) => void) => {
        closed = true;
        let p: Promise<void> | undefined;
        try {
          p = close();
        } catch (err) {
          onCloseError(err);
          return;
        }
        if (p) p.then(then, onCloseError);
        else then();
      };
      const sub = source.subscribe({
        next: (v) => subscriber.next(v),
        error: (err: unknown) => {
          const fail = () => subscriber.error(err);
          end(fail, fail);
        },
        complete: () =>
          end(
            () => subscriber.complete(),
            (err) => subscriber.error(err),
          ),
      });
      return () => {
        sub.unsubscribe();
        if (closed) return;
        closed = true;
        try {
          close()?.catch(() => undefined);
        } catch {
          /* a cancelled run: nothing to report to */
        }
      };
    });
}
