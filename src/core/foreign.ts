// A foreign RxJS operator knows nothing of tickets. It is treated as a synchronous boundary: the
// tickets of the inputs it has taken are released when it emits its next output, or when it ends.
// An input it emits as-is (filter, tap, take) keeps its own reference instead, so nothing is
// released twice; one it emits after its reference was let go (delay) goes on as a ticketless view.
import { RecordBatch } from 'apache-arrow';
import { Observable, type OperatorFunction } from 'rxjs';
import { release, ticketsOf, type Ticket } from './tickets.ts';

export function foreign<A extends object, B>(op: OperatorFunction<A, B>): OperatorFunction<A, B> {
  return (source) =>
    new Observable<B>((subscriber) => {
      let held: Array<{ input: A; tickets: readonly Ticket[] }> = []; // one reference each, ours
      const spent = new WeakSet<object>(); // inputs whose reference is no longer ours to pass on
      const letGo = () => {
        const h = held;
        held = [];
        for (const x of h) {
          spent.add(x.input);
          release(x.tickets);
        }
      };
      const tracked = new Observable<A>((inner) =>
        source.subscribe({
          next: (a) => {
            const t = ticketsOf(a);
            if (t.length > 0) held.push({ input: a, tickets: t });
            inner.next(a);
          },
          error: (e) => inner.error(e),
          complete: () => inner.complete(),
        }),
      );
      const sub = op(tracked).subscribe({
        next: (b) => {
          let out = b;
          const k = held.findIndex((x) => x.input === (b as unknown));
          if (k >= 0) {
            spent.add(held[k]!.input);
            held.splice(k, 1);
          } else if (b instanceof RecordBatch && spent.has(b)) out = new RecordBatch(b.schema, b.data) as B;
          letGo();
          subscriber.next(out);
        },
        error: (e) => {
          letGo();
          subscriber.error(e);
        },
        complete: () => {
          letGo();
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        letGo();
      };
    });
}
